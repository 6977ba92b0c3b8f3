// The scenario text form (parser and printer) is written in Model/Text/ by another piece of
// work. Until it is in this tree, the CLI speaks to it through IScenarioText below.
//
// THE SWAP: once Model/Text/ (ScenarioParser, ScenarioPrinter) is merged, uncomment the next
// line. ModelScenarioText then becomes the text form the CLI uses. If the parser's result type
// names its members differently from what is assumed below (Scenario, Errors; File, Line,
// Column, Message), fix them inside ModelScenarioText: nothing else in Cli needs to change.
// #define SCENARIO_TEXT

using DmaVerify.Model;

namespace DmaVerify.Cli.Text;

/// <summary>A parse error in a scenario file, 1-based line and column.</summary>
internal sealed record ScenarioTextError(string File, int Line, int Column, string Message)
{
    /// <summary>The compiler-style form editors jump to: <c>file:line:col: message</c>.</summary>
    public override string ToString() => $"{File}:{Line}:{Column}: {Message}";
}

/// <summary>Either a scenario or the errors that kept the text from being one.</summary>
internal sealed record ScenarioTextResult(Scenario? Scenario, IReadOnlyList<ScenarioTextError> Errors)
{
    public bool Success => Scenario is not null && Errors.Count == 0;
}

/// <summary>What the CLI needs of the scenario text form (DESIGN §2.1).</summary>
internal interface IScenarioText
{
    /// <summary>Never throws on malformed text: errors come back in the result.</summary>
    ScenarioTextResult Parse(string text, string fileName);
    string Print(Scenario scenario);
    string FormatOp(Op op);
    string FormatOutcome(Outcome outcome);
}

internal static class ScenarioTextForm
{
    /// <summary>The text form the CLI uses.</summary>
    public static IScenarioText Current { get; } =
#if SCENARIO_TEXT
        new ModelScenarioText();
#else
        new PendingScenarioText();
#endif
}

#if SCENARIO_TEXT
/// <summary>The real text form from Model/Text/.</summary>
internal sealed class ModelScenarioText : IScenarioText
{
    public ScenarioTextResult Parse(string text, string fileName)
    {
        var r = ScenarioParser.Parse(text, fileName);
        return new ScenarioTextResult(
            r.Scenario,
            r.Errors.Select(e => new ScenarioTextError(e.File, e.Line, e.Column, e.Message)).ToList());
    }

    public string Print(Scenario scenario) => ScenarioPrinter.Print(scenario);
    public string FormatOp(Op op) => ScenarioPrinter.FormatOp(op);
    public string FormatOutcome(Outcome outcome) => ScenarioPrinter.FormatOutcome(outcome);
}
#endif

/// <summary>
/// Stand-in while Model/Text/ is not in this tree: parsing reports one error at 1:1 saying so
/// (so `verify replay` exits 2 with an honest message), and ops and outcomes print through
/// their record ToString. This is not a parser and will not become one.
/// </summary>
internal sealed class PendingScenarioText : IScenarioText
{
    public const string NotAvailable = "the scenario text parser (Model/Text) is not in this build yet";

    public ScenarioTextResult Parse(string text, string fileName) =>
        new(null, [new ScenarioTextError(fileName, 1, 1, NotAvailable)]);

    public string Print(Scenario scenario) =>
        throw new NotSupportedException("the scenario printer (Model/Text) is not in this build yet");

    public string FormatOp(Op op) => op.ToString();
    public string FormatOutcome(Outcome outcome) => outcome.ToString() ?? "";
}
