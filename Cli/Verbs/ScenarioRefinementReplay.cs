using DmaVerify.Cli.Composition;
using DmaVerify.Contracts;
using DmaVerify.Cli.Text;
using DmaVerify.Harness;

namespace DmaVerify.Cli.Verbs;

/// <summary>`verify replay FILE --impl NAME`: the scenario's ops on the implementation beside
/// the model (the refinement check every engine uses), printing each op with the
/// implementation's outcome and, if they part, where and why. The command `verify check`
/// prints for a failing corpus file.</summary>
internal static class ScenarioRefinementReplay
{
    public static int Run(string path, string implementation, TextWriter output, TextWriter error, IScenarioText text)
    {
        if (!Implementations.RegistryFor(implementation).TryGet(implementation, out var chosen, out string why))
        {
            error.WriteLine($"verify replay: --impl: {why}");
            return ExitCodes.BadInput;
        }
        if (!ScenarioLoader.TryLoad(path, text, error, out var scenario, out int exit)) return exit;
        if (!scenario.TryBuildPlatform(out var platform, out string buildError))
        {
            error.WriteLine($"{path}: {buildError}");
            return ExitCodes.BadInput;
        }

        output.WriteLine($"replay {path}: preset {scenario.Preset}, {ReplayVerb.Plural(scenario.Steps.Count, "step")}, model vs {implementation}");
        var report = RefinementSession.Run(platform, scenario.Steps.Select(s => s.Op), chosen.Create,
            new RefinementOptions { Model = chosen.ModelOptions });
        var mismatches = RecordedOutcomes.Compare(scenario, report.Steps).ToDictionary(m => m.Step);
        for (int i = 0; i < report.Steps.Count; i++)
        {
            var step = report.Steps[i];
            output.WriteLine($"step {i}: {text.FormatOp(step.Op)}");
            if (step.Expected is { } outcome) output.WriteLine($"  => {implementation}: {text.FormatOutcome(outcome)}");
            if (mismatches.TryGetValue(i, out var m))
                output.WriteLine($"  differs from the file's recorded {text.FormatOutcome(m.Recorded)}" +
                                 (report.Finding?.Step == i ? "" : " (the model accepts it: a choice it allows, or a consequence of an earlier one)"));
        }

        string recorded = mismatches.Count == 0
            ? $"{implementation} matches every recorded outcome"
            : $"{implementation} differs from {ReplayVerb.Plural(mismatches.Count, "recorded outcome")}";
        if (report.Finding is not { } finding)
        {
            output.WriteLine($"result: PASSED (model and {implementation} agree on all {ReplayVerb.Plural(report.Steps.Count, "step")}; no invariant violation; {recorded})");
            return ExitCodes.Ok;
        }
        output.WriteLine($"model and {implementation} part at step {finding.Step}: {finding.Kind} {finding.Invariant}");
        output.WriteLine($"  {finding.Message}");
        output.WriteLine($"result: FAILED ({finding.Kind} {finding.Invariant} at step {finding.Step} of {scenario.Steps.Count}; {recorded})");
        return finding.Kind == FindingKind.ToolCrash ? ExitCodes.Crashed : ExitCodes.Failed;
    }
}
