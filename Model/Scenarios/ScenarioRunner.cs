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

    /// <summary>In a streamed replay: a second record for an already reported step, carrying
    /// only the violations the full check of the final state found there.</summary>
    public bool Amends { get; init; }
}

/// <summary>Counts of a streamed replay (steps seen, completed, violations incl. the initial
/// state's, expected-outcome mismatches).</summary>
public sealed record StreamTotals(int Steps, int Completed, int Violations, int Mismatches);

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

    /// <summary>Totals of a streamed run, whose steps were handed out one by one and not kept.</summary>
    public StreamTotals? Streamed { get; init; }

    public int StepCount => Streamed?.Steps ?? Scenario.Steps?.Count ?? 0;
    public int StepsCompleted => Streamed?.Completed ?? Steps.Count(s => s.Crash is null);
    public int StepsNotRun => Streamed is null ? StepCount - Steps.Count : 0;
    public int ViolationCount => Streamed?.Violations ?? InitialViolations.Count + Steps.Sum(s => s.Violations.Count);
    public int MismatchCount => Streamed?.Mismatches ?? Steps.Count(s => s.Mismatch is not null);

    public ReplayStatus Status =>
        Error is not null ? ReplayStatus.Invalid :
        Crash is not null ? ReplayStatus.Crashed :
        ViolationCount > 0 || MismatchCount > 0 ? ReplayStatus.Failed :
        ReplayStatus.Passed;

    public static ReplayReport Invalid(Scenario scenario, string error) => new() { Scenario = scenario, Error = error };
}

/// <summary>What the runner needs of a system: apply an op, export the state. The model also
/// judges each op on what it touched (<see cref="LastStepViolations"/>), so its replays never
/// copy or re-check the whole state per step; the seam lets tests drive the runner with a system
/// that misbehaves, which the runner then judges with the full checker at every step.</summary>
internal interface IReplayTarget
{
    SystemState State { get; }
    Outcome Apply(Op op);

    /// <summary>The violations the last op introduced, judged incrementally; null when the
    /// target cannot judge itself (the runner then runs the full checker on every step).</summary>
    IReadOnlyList<Violation>? LastStepViolations => null;

    /// <summary>The state before the last op, for a report after that op crashed; null when the
    /// target keeps none (the runner then copies the state before every step).</summary>
    SystemState? StateBeforeLastOp => null;
}

/// <summary>
/// Runs a <see cref="Scenario"/> on a fresh <see cref="ModelSystem"/> and judges every step with
/// the invariant checker and, where the scenario recorded one, the expected outcome. The model's
/// steps are judged incrementally (on what each op touched) and the final state by the full
/// checker, which is the specification of the incremental one; anything only the full checker
/// finds is reported at the last step. Never throws on bad input: an unusable scenario gives a
/// report with <see cref="ReplayReport.Error"/>, and an exception from the model or the checker
/// gives a report with a <see cref="ReplayReport.Crash"/> at the step where it happened.
/// </summary>
public static class ScenarioRunner
{
    public static ReplayReport Run(Scenario scenario, ModelOptions? options = null) =>
        Run(scenario, platform => new ModelTarget(new ModelSystem(platform, options)));

    /// <summary>Runs the scenario's steps as they come, calling <paramref name="onStep"/> after each
    /// one; the report keeps no step records (memory stays O(live state) whatever the length).</summary>
    public static ReplayReport Stream(Scenario header, IEnumerable<ScenarioStep> steps, Action<StepRecord> onStep,
                                      Action<IReadOnlyList<Violation>, ToolCrash?>? onStart = null, ModelOptions? options = null) =>
        Run(header, platform => new ModelTarget(new ModelSystem(platform, options)), steps, onStep, onStart);

    private sealed class ModelTarget(ModelSystem model) : IReplayTarget
    {
        private ModelState? _before;
        public SystemState State => model.State;

        public Outcome Apply(Op op)
        {
            _before = model.View;
            LastStepViolations = null;
            var outcome = model.Apply(op);
            LastStepViolations = IncrementalChecker.CheckStep(_before, op, outcome, model.View, model.Footprint);
            return outcome;
        }

        public IReadOnlyList<Violation>? LastStepViolations { get; private set; }
        public SystemState? StateBeforeLastOp => _before?.Export();
    }

    /// <summary>Runs on the system <paramref name="create"/> builds for the scenario's platform.</summary>
    internal static ReplayReport Run(Scenario scenario, Func<PlatformConfig, IReplayTarget> create) =>
        Run(scenario, create, scenario.Steps, onStep: null, onStart: null);

    private static ReplayReport Run(Scenario scenario, Func<PlatformConfig, IReplayTarget> create, IEnumerable<ScenarioStep>? steps,
                                    Action<StepRecord>? onStep, Action<IReadOnlyList<Violation>, ToolCrash?>? onStart)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        if (scenario.Preset is null || scenario.Devices is null || steps is null)
            return ReplayReport.Invalid(scenario, "scenario is incomplete (no preset, device list or step list)");
        if (onStep is null)
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
            var setup = ToolCrash.From(null, "model", e);
            onStart?.Invoke([], setup);
            return new ReplayReport { Scenario = scenario, Crash = setup };
        }

        IReadOnlyList<Violation> initial;
        try
        {
            initial = Distinct(InvariantChecker.Check(system.State));
        }
        catch (Exception e)
        {
            var setup = ToolCrash.From(null, "invariant checker", e);
            onStart?.Invoke([], setup);
            return new ReplayReport { Scenario = scenario, Crash = setup, FinalState = system.State };
        }
        onStart?.Invoke(initial, null);

        var records = new List<StepRecord>();
        var present = new HashSet<Violation>(initial);
        SystemState? lastGood = null;
        ToolCrash? crash = null;
        StepRecord? last = null;
        int index = 0, completed = 0, violationCount = 0, mismatches = 0;

        foreach (var step in steps)
        {
            var record = step?.Op is null
                ? new StepRecord(index, null!, null, [], null, null, ToolCrash.From(index, "scenario", new InvalidDataException($"step {index} has no op")))
                : RunStep(system, index, step, present, out lastGood);
            last = record;
            index++;
            if (onStep is null) records.Add(record);
            else onStep(record);
            if (record.Crash is not null)
            {
                crash = record.Crash;
                break;
            }
            completed++;
            violationCount += record.Violations.Count;
            if (record.Mismatch is not null) mismatches++;
        }

        // The full checker on the final state: the specification of the incremental checks.
        SystemState final;
        try
        {
            final = crash is null ? system.State : lastGood ?? system.StateBeforeLastOp ?? system.State;
        }
        catch (Exception e)
        {
            return new ReplayReport { Scenario = scenario, InitialViolations = initial, Steps = records, Crash = crash ?? ToolCrash.From(index, "state export", e) };
        }
        IReadOnlyList<Violation> missed = [];
        if (crash is null && system.LastStepViolations is not null && last is not null)
        {
            try
            {
                missed = Distinct(InvariantChecker.Check(final)).Where(v => !present.Contains(v)).ToList();
            }
            catch (Exception e)
            {
                crash = ToolCrash.From(index - 1, "invariant checker", e);
            }
            if (missed.Count > 0)
            {
                violationCount += missed.Count;
                if (onStep is null) records[^1] = last with { Violations = [.. last.Violations, .. missed] };
                else onStep(last with { Violations = missed, Amends = true });
            }
        }

        return new ReplayReport
        {
            Scenario = scenario,
            InitialViolations = initial,
            Steps = records,
            Crash = crash,
            FinalState = final,
            Streamed = onStep is null ? null : new StreamTotals(index, completed, violationCount + initial.Count, mismatches),
        };
    }

    private static StepRecord RunStep(IReplayTarget system, int index, ScenarioStep step, HashSet<Violation> present, out SystemState? before)
    {
        before = null;
        StepRecord Crashed(string component, Exception e, Outcome? outcome = null) =>
            new(index, step.Op, outcome, [], step.Expected, null, ToolCrash.From(index, component, e));

        bool incremental = system.LastStepViolations is not null || system is ModelTarget;
        if (!incremental)
        {
            try
            {
                before = system.State.Clone();
            }
            catch (Exception e)
            {
                return Crashed("state copy (SystemState.Clone)", e);
            }
        }

        Outcome outcome;
        try
        {
            outcome = system.Apply(step.Op) ?? throw new InvalidOperationException($"Apply returned no outcome for {step.Op}");
        }
        catch (Exception e)
        {
            // The system may be half-way through the op; the state before it is the last one
            // known to be whole.
            try
            {
                before ??= system.StateBeforeLastOp;
            }
            catch (Exception)
            {
                before = null;
            }
            return Crashed("model", e);
        }

        var violations = new List<Violation>();
        try
        {
            if (system.LastStepViolations is { } judged)
            {
                foreach (var v in judged)
                    if (present.Add(v)) violations.Add(v);
            }
            else
            {
                violations.AddRange(InvariantChecker.CheckStep(before!, step.Op, outcome, system.State));
                var now = Distinct(InvariantChecker.Check(system.State));
                violations.AddRange(now.Where(v => !present.Contains(v)));
                present.Clear();
                present.UnionWith(now);
            }
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
