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
    public static int Run(string path, string implementation, TextWriter output, TextWriter error, IScenarioText text,
        IReadOnlyDictionary<int, int>? failedAllocations = null)
    {
        failedAllocations ??= new Dictionary<int, int>();
        if (!Implementations.Registry.TryGet(implementation, out var chosen, out string why))
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

        foreach (int beyond in failedAllocations.Keys.Where(step => step >= scenario.Steps.Count))
        {
            error.WriteLine($"verify replay: --fail-alloc {beyond}:{failedAllocations[beyond]}: {path} has {ReplayVerb.Plural(scenario.Steps.Count, "step")} (0 to {scenario.Steps.Count - 1})");
            return ExitCodes.BadInput;
        }

        output.WriteLine($"replay {path}: preset {scenario.Preset}, {ReplayVerb.Plural(scenario.Steps.Count, "step")}, model vs {implementation}" +
                         string.Concat(failedAllocations.OrderBy(f => f.Key).Select(f => $"; step {f.Key} with allocation #{f.Value} failing")));
        var report = failedAllocations.Count == 0
            ? RefinementSession.Run(platform, scenario.Steps.Select(s => s.Op), chosen.Create, new RefinementOptions { Model = chosen.ModelOptions })
            : RunWithFaults(platform, scenario, chosen, failedAllocations);
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

    /// <summary>The refinement run with fault injection: the named steps run with the
    /// implementation's n-th allocation failing, the model accepting resource failures.</summary>
    private static RefinementReport RunWithFaults(PlatformConfig platform, Scenario scenario, Implementation chosen, IReadOnlyDictionary<int, int> faults)
    {
        var session = new RefinementSession(platform, chosen.Create,
            new RefinementOptions { Model = chosen.ModelOptions with { AllowResourceFailures = true } });
        for (int i = 0; i < scenario.Steps.Count; i++)
        {
            var op = scenario.Steps[i].Op;
            var finding = faults.TryGetValue(i, out int nth) ? session.StepFailingAllocation(op, nth) : session.Step(op);
            if (finding is not null) break;
        }
        session.CheckInvariants();
        return new RefinementReport(session.Steps, session.Finding);
    }
}
