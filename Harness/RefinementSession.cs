using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Harness;

/// <summary>How closely a <see cref="RefinementSession"/> watches the implementation.</summary>
public sealed record RefinementOptions
{
    /// <summary>Check the implementation's exported state against every invariant after every
    /// n-th step (1 = every step, 0 = only when asked). Exporting costs O(state), so long runs
    /// check less often (see <see cref="InvariantCheckpoints"/>).</summary>
    public int InvariantEvery { get; init; } = 1;

    /// <summary>Instead of every n-th step, check the implementation's state after steps 1, 2, 4,
    /// 8, … (and when asked): O(1) amortised per step whatever the state's size, while the model's
    /// own state is judged incrementally after every step.</summary>
    public bool InvariantCheckpoints { get; init; }

    /// <summary>Judge the model's state after every step on what the step touched
    /// (<see cref="IncrementalChecker"/>): the invariants hold of the choices the model adopted.</summary>
    public bool CheckModelSteps { get; init; } = true;

    /// <summary>The model's options. Fault-injection runs set AllowResourceFailures.</summary>
    public ModelOptions Model { get; init; } = new();

    /// <summary>Count, instead of failing on, INV-11 OutOfIova divergences that an
    /// <see cref="IKnownIncompleteness"/> implementation attributes to its documented
    /// incompleteness (<see cref="RefinementSession.KnownDeviations"/>). Off by default.</summary>
    public bool AcceptKnownIncompleteness { get; init; }
}

/// <summary>
/// One model-vs-implementation run, a step at a time: each op goes to the
/// implementation, its outcome to <see cref="ModelSystem.Check"/>, which accepts any outcome the
/// model allows and adopts its choices; the implementation's state is checked against the
/// invariants. The first problem is kept as <see cref="Finding"/> and later steps are refused,
/// so what a session reports is always a prefix of ops that ends in the failure.
/// Generators read <see cref="ModelView"/> to make the next op. Nothing here throws for a
/// problem in the model or the implementation: crashes become findings.
/// </summary>
public sealed class RefinementSession
{
    private readonly ISystemUnderTest _impl;
    private readonly ModelSystem _model;
    private readonly RefinementOptions _options;
    private readonly List<ScenarioStep> _steps = [];
    private readonly List<KnownDeviation> _known = [];

    public RefinementSession(PlatformConfig platform, Func<PlatformConfig, ISystemUnderTest> implementation, RefinementOptions? options = null)
    {
        Platform = platform;
        _options = options ?? new RefinementOptions();
        _model = new ModelSystem(platform, _options.Model);
        try
        {
            _impl = implementation(platform);
        }
        catch (Exception e)
        {
            _impl = new Broken(e);
            Finding = Finding.Crash(FindingKind.ImplementationCrash, 0, "the implementation's constructor", e);
        }
    }

    /// <summary>A session over systems already built and at their starting states
    /// (<see cref="PreparedSystems"/>).</summary>
    internal RefinementSession(PlatformConfig platform, ModelSystem model, ISystemUnderTest implementation, RefinementOptions options)
    {
        Platform = platform;
        _options = options;
        _model = model;
        _impl = implementation;
    }

    /// <summary>A session whose implementation could not be built: it starts with that finding.</summary>
    internal static RefinementSession WithBrokenImplementation(PlatformConfig platform, ModelSystem model, RefinementOptions options, Exception construction)
    {
        var session = new RefinementSession(platform, model, new Broken(construction), options);
        session.Finding = Finding.Crash(FindingKind.ImplementationCrash, 0, "the implementation's constructor", construction);
        return session;
    }

    public PlatformConfig Platform { get; }

    /// <summary>The implementation's starting state as judged clean, when the session started
    /// from one (<see cref="PreparedSystems"/>): its unchanged domains are not judged again.</summary>
    internal StateBaseline? Baseline { get => _baseline; init => _baseline = value; }
    private StateBaseline? _baseline;

    /// <summary>The model's state in the exported shape (O(state) per change: for reports and tests).</summary>
    public SystemState ModelState => _model.State;

    /// <summary>The model's state as a persistent value (O(1): what generators read).</summary>
    public ModelState ModelView => _model.View;
    public ISystemUnderTest Implementation => _impl;

    /// <summary>The ops run so far with the implementation's outcomes (the failing op last).</summary>
    public IReadOnlyList<ScenarioStep> Steps => _steps;

    /// <summary>Divergences accepted as the implementation's documented incompleteness (only with
    /// <see cref="RefinementOptions.AcceptKnownIncompleteness"/>), in step order.</summary>
    public IReadOnlyList<KnownDeviation> KnownDeviations => _known;

    public Finding? Finding { get; private set; }
    public bool Failed => Finding is not null;

    /// <summary>Runs one op on both sides. Returns the finding it caused, if any; after a
    /// finding, further steps are ignored and return it again.</summary>
    public Finding? Step(Op op)
    {
        if (Finding is not null) return Finding;
        int index = _steps.Count;
        Outcome outcome;
        try
        {
            outcome = _impl.Apply(op);
        }
        catch (Exception e)
        {
            _steps.Add(new ScenarioStep(op));
            return Finding = Finding.Crash(FindingKind.ImplementationCrash, index, _impl.Name, e);
        }
        _steps.Add(new ScenarioStep(op, outcome));
        if (outcome is Failed f && f.Error.Message.StartsWith("internal error", StringComparison.Ordinal))
            return Finding = new Finding(FindingKind.ImplementationCrash, index, "CRASH", $"{_impl.Name} reported {f.Error.Message}");

        try
        {
            var before = _model.View;
            var result = _model.Check(op, outcome);
            if (result.Divergence is { } d)
            {
                if (KnownIncompleteness(outcome, d) is not string reason) return Finding = Finding.From(index, d);
                // The model kept its state (a divergence changes nothing) and the implementation's
                // failed op changed nothing the model sees: the two sides are still in step.
                _known.Add(new KnownDeviation(index, op, reason, d));
            }
            else if (_options.CheckModelSteps)
            {
                var violations = IncrementalChecker.CheckStep(before, op, result.Outcome, _model.View, _model.Footprint);
                if (violations.Count > 0) return Finding = Finding.From(index, violations);
            }
        }
        catch (Exception e)
        {
            return Finding = Finding.Crash(FindingKind.ToolCrash, index, "the model", e);
        }

        int done = index + 1;
        bool due = _options.InvariantCheckpoints
            ? (done & (done - 1)) == 0
            : _options.InvariantEvery > 0 && done % _options.InvariantEvery == 0;
        return due ? CheckInvariants() : null;
    }

    /// <summary>Runs one op with the implementation's <paramref name="nth"/> internal allocation
    /// from now failing (fault injection). The model must accept resource failures
    /// (<see cref="ModelOptions.AllowResourceFailures"/>); when the implementation answers
    /// OutOfMemory, its exported state must be as before the op (INV-15), else that is the finding.</summary>
    /// <param name="before">The implementation's exported state as it is now, asked for only
    /// when the op failed with OutOfMemory (after it ran); null: exported before the op. A search
    /// that injects faults into many ops from one state exports that state once, and only then.</param>
    public Finding? StepFailingAllocation(Op op, int nth, Func<SystemState>? before = null)
    {
        if (Finding is not null) return Finding;
        if (!_options.Model.AllowResourceFailures)
            throw new InvalidOperationException("fault injection needs a session whose model accepts resource failures (ModelOptions.AllowResourceFailures)");
        int index = _steps.Count;
        SystemState? exported = null;
        try
        {
            if (before is null) exported = _impl.ExportState();
            _impl.FailNthAllocation(nth);
        }
        catch (Exception e)
        {
            _steps.Add(new ScenarioStep(op));
            return Finding = Finding.Crash(FindingKind.ImplementationCrash, index, $"{_impl.Name}'s state export", e);
        }
        var finding = Step(op);
        if (finding is not null) return finding;
        try
        {
            _impl.FailNthAllocation(0); // not reached by this op: cancelled, not left for the next
            if (_steps[^1].Expected is not Failed { Kind: DmaErrorKind.OutOfMemory }) return null;
            var after = _impl.ExportState();
            var changes = StateDiff.Differences(exported ?? before!(), after);
            return changes.Count == 0 ? null : Finding = new Finding(FindingKind.InvariantViolation, index, InvariantChecker.Inv15,
                $"INV-15: {_impl.Name} failed with OutOfMemory but changed its state: {string.Join("; ", changes.Take(5))}");
        }
        catch (Exception e)
        {
            return Finding = Finding.Crash(FindingKind.ImplementationCrash, index, $"{_impl.Name}'s state export", e);
        }
    }

    /// <summary>The implementation's reason when this divergence is its documented incompleteness:
    /// only a completeness divergence (INV-11) of an OutOfIova failure, and only when asked to.</summary>
    private string? KnownIncompleteness(Outcome outcome, Divergence divergence)
    {
        return _options.AcceptKnownIncompleteness ? Harness.KnownIncompleteness.Explains(_impl, divergence.Invariant, outcome) : null;
    }

    /// <summary>Saves both systems and the session's own record (steps, finding) so that
    /// <see cref="Restore"/> can return to this point: a sweep that re-runs the end of an op list
    /// many times restores the prefix instead of running it again.</summary>
    public SessionSnapshot Save() =>
        new(_model.Snapshot(), _impl.Snapshot(), _steps.Count, _known.Count, Finding, _baseline);

    /// <summary>The model's state alone (O(1)): with an implementation snapshot taken elsewhere it
    /// makes a <see cref="SessionSnapshot"/>, so a search can keep model states for many points
    /// and make the implementation's only when it returns to one.</summary>
    public ModelSnapshot SaveModel() => _model.Snapshot();

    /// <summary>Returns both systems and the record to a point <see cref="Save"/> made in this
    /// session (steps after it are forgotten).</summary>
    public void Restore(SessionSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        _model.Restore(snapshot.Model);
        _impl.Restore(snapshot.Implementation);
        _steps.RemoveRange(snapshot.Steps, _steps.Count - snapshot.Steps);
        _known.RemoveRange(snapshot.Known, _known.Count - snapshot.Known);
        Finding = snapshot.Finding;
        _baseline = snapshot.Baseline;
    }

    /// <summary>Checks the implementation's current state against every invariant.</summary>
    public Finding? CheckInvariants()
    {
        if (Finding is not null) return Finding;
        int index = Math.Max(0, _steps.Count - 1);
        try
        {
            var state = _impl.ExportState();
            var violations = StateBaseline.CheckAndAdvance(ref _baseline, state);
            return violations.Count == 0 ? null : Finding = Finding.From(index, violations);
        }
        catch (Exception e)
        {
            return Finding = Finding.Crash(FindingKind.ImplementationCrash, index, $"{_impl.Name}'s state export or the checker", e);
        }
    }

    /// <summary>The ops so far as a scenario (with the implementation's outcomes recorded), ready
    /// for the text form and <c>verify replay</c>.</summary>
    public Scenario ToScenario(string preset) =>
        new(preset, ValueList<DeviceConfig>.Empty, _steps.ToValueList());

    /// <summary>Runs a whole op list; stops at the first finding. Checks invariants at the end.</summary>
    public static RefinementReport Run(
        PlatformConfig platform,
        IEnumerable<Op> ops,
        Func<PlatformConfig, ISystemUnderTest> implementation,
        RefinementOptions? options = null)
    {
        var session = new RefinementSession(platform, implementation, options);
        foreach (var op in ops)
            if (session.Step(op) is not null) break;
        session.CheckInvariants();
        return new RefinementReport(session.Steps, session.Finding) { KnownDeviations = session.KnownDeviations };
    }

    private sealed class Broken(Exception e) : ISystemUnderTest
    {
        public string Name => "broken";
        public Outcome Apply(Op op) => throw new InvalidOperationException("the implementation could not be built", e);
        public SystemState ExportState() => throw new InvalidOperationException("the implementation could not be built", e);
        public void FailNthAllocation(int n) { }
        public long AllocationAttempts => 0;
        public SystemSnapshot Snapshot() => throw new InvalidOperationException("the implementation could not be built", e);
        public void Restore(SystemSnapshot snapshot) => throw new InvalidOperationException("the implementation could not be built", e);
    }
}

/// <summary>A point of a <see cref="RefinementSession"/> to return to (<see cref="RefinementSession.Save"/>).</summary>
public sealed record SessionSnapshot(ModelSnapshot Model, SystemSnapshot Implementation, int Steps, int Known, Finding? Finding, StateBaseline? Baseline);

/// <summary>The result of <see cref="RefinementSession.Run"/>.</summary>
public sealed record RefinementReport(IReadOnlyList<ScenarioStep> Steps, Finding? Finding)
{
    /// <summary>Divergences accepted as documented incompleteness (see <see cref="RefinementOptions.AcceptKnownIncompleteness"/>).</summary>
    public IReadOnlyList<KnownDeviation> KnownDeviations { get; init; } = [];

    public bool Passed => Finding is null;
}
