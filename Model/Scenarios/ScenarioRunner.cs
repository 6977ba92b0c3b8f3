using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>Something in the tool itself threw while a scenario ran: the model executor, the
/// invariant checker or a state copy. That is a bug in the tool, reported as data rather than
/// as an exception out of the runner. <see cref="Step"/> is null when the crash happened while
/// the initial state was being built.</summary>
public sealed record ToolCrash(int? Step, string Component, string ExceptionType, string Message, string? Where)
{
    internal static ToolCrash From(int? step, string component, Exception e) =>
        new(step, component, e.GetType().Name, e.Message, FirstFrame(e));

    private static string? FirstFrame(Exception e)
    {
        string? trace = e.StackTrace;
        if (string.IsNullOrEmpty(trace)) return null;
        int nl = trace.IndexOf('\n');
        return (nl < 0 ? trace : trace[..nl]).Trim();
    }

    public override string ToString() =>
        (Step is int n ? $"{Component} crashed at step {n}" : $"{Component} crashed while building the initial state") +
        $": {ExceptionType}: {Message}" + (Where is null ? "" : $" ({Where})");
}

/// <summary>
/// What happened at one step of a replay. <see cref="Outcome"/> is null when the step crashed.
/// <see cref="Violations"/> are the invariant violations this step introduced: those
/// <see cref="InvariantChecker.CheckStep"/> reports for the op, plus those
/// <see cref="InvariantChecker.Check"/> finds in the state after it that were not already
/// present before it (a broken state is reported once, where it broke, not at every later step).
/// <see cref="Mismatch"/> is set when the scenario recorded an expected outcome and the model's
/// differs from it; a mismatch is not a violation.
/// </summary>
public sealed record StepRecord(
    int Index,
    Op Op,
    Outcome? Outcome,
    IReadOnlyList<Violation> Violations,
    Outcome? Expected,
    string? Mismatch,
    ToolCrash? Crash)
{
    public bool IsClean => Crash is null && Violations.Count == 0 && Mismatch is null;
}

/// <summary>How a replay ended, from best to worst in the order a caller usually tests them.</summary>
public enum ReplayStatus
{
    /// <summary>Every step ran; no violation, no expected-outcome mismatch.</summary>
    Passed,
    /// <summary>Every step ran; at least one violation or mismatch.</summary>
    Failed,
    /// <summary>The model, the checker or a state copy threw; later steps were not run.</summary>
    Crashed,
    /// <summary>The scenario itself is unusable (unknown preset, bad device override, missing op).</summary>
    Invalid,
}

/// <summary>The result of <see cref="ScenarioRunner.Run"/>: one record per step that was
/// attempted, totals, and the last consistent state of the system (for rendering).</summary>
public sealed record ReplayReport
{
    public required Scenario Scenario { get; init; }
    /// <summary>Why the scenario could not be run at all; null when it was run.</summary>
    public string? Error { get; init; }
    /// <summary>Violations of the state the system starts in, before any op.</summary>
    public IReadOnlyList<Violation> InitialViolations { get; init; } = [];
    public IReadOnlyList<StepRecord> Steps { get; init; } = [];
    /// <summary>The crash that stopped the run, if any (also on the last step record when it
    /// happened at a step).</summary>
    public ToolCrash? Crash { get; init; }
    /// <summary>The state after the last step that completed (the state before a crashing step);
    /// null when no system could be built.</summary>
    public SystemState? FinalState { get; init; }

    public int StepCount => Scenario.Steps?.Count ?? 0;
    public int StepsCompleted => Steps.Count(s => s.Crash is null);
    public int StepsNotRun => StepCount - Steps.Count;
    public int ViolationCount => InitialViolations.Count + Steps.Sum(s => s.Violations.Count);
    public int MismatchCount => Steps.Count(s => s.Mismatch is not null);

    public ReplayStatus Status =>
        Error is not null ? ReplayStatus.Invalid :
        Crash is not null ? ReplayStatus.Crashed :
        ViolationCount > 0 || MismatchCount > 0 ? ReplayStatus.Failed :
        ReplayStatus.Passed;

    public static ReplayReport Invalid(Scenario scenario, string error) => new() { Scenario = scenario, Error = error };
}

/// <summary>What the runner needs of a system: apply an op, export the state. The model is the
/// only one today; the seam lets tests drive the runner with a system that misbehaves.</summary>
internal interface IReplayTarget
{
    SystemState State { get; }
    Outcome Apply(Op op);
}

/// <summary>
/// Runs a <see cref="Scenario"/> on a fresh <see cref="ModelSystem"/> and judges every step with
/// the invariant checker and, where the scenario recorded one, the expected outcome. Never
/// throws on bad input: an unusable scenario gives a report with <see cref="ReplayReport.Error"/>,
/// and an exception from the model or the checker gives a report with a
/// <see cref="ReplayReport.Crash"/> at the step where it happened.
/// </summary>
public static class ScenarioRunner
{
    public static ReplayReport Run(Scenario scenario, ModelOptions? options = null) =>
        Run(scenario, platform => new ModelTarget(new ModelSystem(platform, options)));

    private sealed class ModelTarget(ModelSystem model) : IReplayTarget
    {
        public SystemState State => model.State;
        public Outcome Apply(Op op) => model.Apply(op);
    }

    /// <summary>Runs on the system <paramref name="create"/> builds for the scenario's platform.</summary>
    internal static ReplayReport Run(Scenario scenario, Func<PlatformConfig, IReplayTarget> create)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        if (scenario.Preset is null || scenario.Devices is null || scenario.Steps is null)
            return ReplayReport.Invalid(scenario, "scenario is incomplete (no preset, device list or step list)");
        for (int i = 0; i < scenario.Steps.Count; i++)
            if (scenario.Steps[i]?.Op is null)
                return ReplayReport.Invalid(scenario, $"step {i} has no op");

        PlatformConfig platform;
        string error;
        try
        {
            if (!scenario.TryBuildPlatform(out platform, out error))
                return ReplayReport.Invalid(scenario, error);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return ReplayReport.Invalid(scenario, e.Message);
        }

        IReplayTarget system;
        try
        {
            system = create(platform);
        }
        catch (ArgumentException e)
        {
            // The model refuses the configuration (for example a device override with an
            // invalid mask): bad input, not a model bug.
            return ReplayReport.Invalid(scenario, e.Message);
        }
        catch (Exception e)
        {
            return new ReplayReport { Scenario = scenario, Crash = ToolCrash.From(null, "model", e) };
        }

        IReadOnlyList<Violation> initial;
        try
        {
            initial = Distinct(InvariantChecker.Check(system.State));
        }
        catch (Exception e)
        {
            return new ReplayReport { Scenario = scenario, Crash = ToolCrash.From(null, "invariant checker", e), FinalState = system.State };
        }

        var records = new List<StepRecord>(scenario.Steps.Count);
        var present = new HashSet<Violation>(initial);
        SystemState lastGood = system.State;
        ToolCrash? crash = null;

        for (int i = 0; i < scenario.Steps.Count && crash is null; i++)
        {
            var step = scenario.Steps[i];
            var record = RunStep(system, i, step, present, out var before);
            records.Add(record);
            if (record.Crash is not null)
            {
                crash = record.Crash;
                // The system may be half-way through the op; the copy taken before it is the
                // last state known to be whole (when the copy itself did not fail).
                lastGood = before ?? lastGood;
            }
            else
            {
                lastGood = system.State;
            }
        }

        return new ReplayReport
        {
            Scenario = scenario,
            InitialViolations = initial,
            Steps = records,
            Crash = crash,
            FinalState = lastGood,
        };
    }

    private static StepRecord RunStep(IReplayTarget system, int index, ScenarioStep step, HashSet<Violation> present, out SystemState? before)
    {
        before = null;
        StepRecord Crashed(string component, Exception e, Outcome? outcome = null) =>
            new(index, step.Op, outcome, [], step.Expected, null, ToolCrash.From(index, component, e));

        try
        {
            before = system.State.Clone();
        }
        catch (Exception e)
        {
            return Crashed("state copy (SystemState.Clone)", e);
        }

        Outcome outcome;
        try
        {
            outcome = system.Apply(step.Op) ?? throw new InvalidOperationException($"Apply returned no outcome for {step.Op}");
        }
        catch (Exception e)
        {
            return Crashed("model", e);
        }

        var violations = new List<Violation>();
        try
        {
            violations.AddRange(InvariantChecker.CheckStep(before, step.Op, outcome, system.State));
            var now = Distinct(InvariantChecker.Check(system.State));
            violations.AddRange(now.Where(v => !present.Contains(v)));
            present.Clear();
            present.UnionWith(now);
        }
        catch (Exception e)
        {
            return Crashed("invariant checker", e, outcome);
        }

        return new StepRecord(index, step.Op, outcome, Distinct(violations), step.Expected, CompareExpected(step.Expected, outcome), null);
    }

    /// <summary>Why <paramref name="actual"/> is not the recorded <paramref name="expected"/>
    /// outcome, or null when it is (or nothing was recorded). Failures match on the error kind
    /// alone: messages are for people and differ between systems.</summary>
    public static string? CompareExpected(Outcome? expected, Outcome actual)
    {
        if (expected is null) return null;
        if (expected is Failed e && actual is Failed a)
            return e.Kind == a.Kind ? null : $"expected error {e.Kind}, got error {a.Kind}";
        return expected.Equals(actual) ? null : $"expected {expected}, got {actual}";
    }

    private static IReadOnlyList<Violation> Distinct(IEnumerable<Violation>? violations) =>
        violations is null ? [] : violations.Where(v => v is not null).Distinct().ToList();
}
