using DmaVerify.Cli.Composition;
using DmaVerify.Contracts;
using DmaVerify.Cli.Text;
using DmaVerify.Harness;
using DmaVerify.Model;

namespace DmaVerify.Cli.Verbs;

/// <summary>`verify replay FILE --impl NAME`: the scenario's ops on the implementation beside
/// the model (the refinement check every engine uses), printing each op with the
/// implementation's outcome and, if they part, where and why. The command `verify check`
/// prints for a failing corpus file.</summary>
internal static class ScenarioRefinementReplay
{
    /// <param name="failedAllocations">Step → n: that step runs with the implementation's n-th
    /// internal allocation failing (as `verify explore` prints its fault-injection findings).</param>
    public static int Run(string path, string implementation, TextWriter output, TextWriter error, IScenarioText text, ImplementationRegistry? registry = null,
        IReadOnlyDictionary<int, int>? failedAllocations = null)
    {
        if (!(registry ?? Implementations.Knowing(implementation)).TryGet(implementation, out var chosen, out string why))
        {
            error.WriteLine($"verify replay: --impl: {why}");
            return ExitCodes.BadInput;
        }
        return Run(path, chosen, output, error, text, failedAllocations);
    }

    /// <summary>The replay on a given implementation (tests pass a bug-planted one).</summary>
    internal static int Run(string path, Implementation chosen, TextWriter output, TextWriter error, IScenarioText text,
        IReadOnlyDictionary<int, int>? failedAllocations = null)
    {
        failedAllocations ??= new Dictionary<int, int>();
        string implementation = chosen.Name;
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
        int judged = report.Finding?.Step ?? report.Steps.Count - 1;
        // With injected failures the session itself judged INV-15 on the failing steps; a rerun
        // without them would judge other states.
        if (failedAllocations.Count == 0 && FirstBrokenStep(platform, report.Steps.Take(judged + 1).Select(s => s.Op).ToList(), chosen) is var (brokenStep, violations)
            && (report.Finding is null || brokenStep < report.Finding.Step || report.Finding.Kind != FindingKind.Divergence))
        {
            output.WriteLine($"{implementation} breaks {violations[0].Invariant} at step {brokenStep} (its states before and after the op, judged as the invariants engine judges them):");
            foreach (var v in violations) output.WriteLine($"  violation {v}");
            output.WriteLine($"result: FAILED (InvariantViolation {violations[0].Invariant} at step {brokenStep} of {scenario.Steps.Count}; {recorded})");
            return ExitCodes.Failed;
        }
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

    /// <summary>
    /// The first op whose step invariants the implementation breaks: each op is judged on the
    /// implementation's exported states before and after it (INV-10 and INV-15: a refused or
    /// failed op changes nothing; and the rest of <see cref="InvariantChecker.CheckStep"/>), and
    /// the state after it on every state invariant. The refinement run checks the state at its
    /// end only, so without this a failure of the property engine's invariants runs would pass
    /// the very replay it prints. A crash here is the refinement run's to report.
    /// </summary>
    private static (int Step, IReadOnlyList<Violation> Violations)? FirstBrokenStep(PlatformConfig platform, IReadOnlyList<Op> ops, Implementation implementation)
    {
        try
        {
            var sut = implementation.Create(platform);
            var before = sut.ExportState();
            for (int i = 0; i < ops.Count; i++)
            {
                var outcome = sut.Apply(ops[i]);
                var after = sut.ExportState();
                var violations = InvariantChecker.CheckStep(before, ops[i], outcome, after).Concat(InvariantChecker.Check(after)).ToList();
                if (violations.Count > 0) return (i, violations);
                before = after;
            }
        }
        catch (Exception) { }
        return null;
    }
}
