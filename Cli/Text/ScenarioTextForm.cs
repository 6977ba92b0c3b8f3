// The CLI speaks to the scenario text form (Model/Text/) through IScenarioText, so tests can
// substitute a parser that fails or throws and check how the verbs report it.

using DmaVerify.Contracts;
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

/// <summary>What the CLI needs of the scenario text form.</summary>
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
    public static IScenarioText Current { get; } = new ModelScenarioText();
}

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
