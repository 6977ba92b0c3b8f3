using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>Knobs for the places where the model leaves freedom to an implementation.</summary>
public sealed record ModelOptions
{
    /// <summary>When true, a PCI device still in 32-bit-first mode must get an IOVA below 4 GiB
    /// whenever one fits (exact free space); when false, an implementation may give up on the
    /// 32-bit pass early (as Linux does when its rcaches hold the space) and fall back.</summary>
    public bool StrictPci32First { get; init; } = true;
    /// <summary>Accept an implementation's OutOfMemory failure of any op that allocates (fault
    /// injection); the op must then change nothing (INV-15).</summary>
    public bool AllowResourceFailures { get; init; }

    /// <summary>Bugs switched on for tests (see <see cref="ModelPlant"/>); none in real runs.</summary>
    internal ModelPlant Plants { get; init; }
}

/// <summary>Where an implementation's answer left what the model allows.</summary>
public sealed record Divergence(string Invariant, string Explanation, Outcome ModelOutcome, Outcome Proposed)
{
    public override string ToString() => $"{Invariant}: {Explanation} (model: {ModelOutcome}; implementation: {Proposed})";
}

public sealed record StepResult(Outcome Outcome, Divergence? Divergence)
{
    public bool Agrees => Divergence is null;
}

/// <summary>A saved model state: restoring it is O(1) and it can be restored any number of
/// times, into any model built over the same platform object.</summary>
public sealed class ModelSnapshot
{
    internal ModelSnapshot(ModelState state) => State = state;
    internal ModelState State { get; }
    public PlatformConfig Platform => State.Platform.Config;
}

/// <summary>
/// The reference model: executable, obviously-right semantics of every op on every preset.
/// Its state is one immutable <see cref="ModelState"/> on persistent structures; an op computes
/// the next state from the current one, so a failing or diverging op is undone by keeping the
/// old state (INV-15 by construction), a snapshot is a reference, and every lookup is O(log n).
/// The one effect Linux keeps when an op fails (a PCI device's cleared 32-bit-first flag) is
/// re-applied after such a rollback. <see cref="Apply"/> runs an op with the model's default
/// choices (highest fitting IOVA, lowest bitmap slot, lowest bounce slot). <see cref="Check"/>
/// judges an implementation's outcome for the same op: when its choices are allowed the model
/// adopts them; otherwise it reports a <see cref="Divergence"/> and keeps its state.
/// </summary>
public sealed partial class ModelSystem
{
    private readonly PlatformIndex _index;
    private ModelState _state;
    /// <summary>The implementation's outcome while <see cref="Check"/> runs; null in <see cref="Apply"/>.</summary>
    private Outcome? _proposed;
    /// <summary>Devices whose 32-bit-first flag this op cleared: kept even when the op fails.</summary>
    private readonly List<int> _keptPci32Cleared = [];
    private SystemState? _exported;
    private ModelState? _exportedFrom;

    public ModelSystem(PlatformConfig platform, ModelOptions? options = null)
    {
        Platform = platform;
        Options = options ?? new ModelOptions();
        _index = new PlatformIndex(platform);
        _state = BuildInitialState();
        Footprint.Clear();
    }

    public static ModelSystem FromScenario(Scenario scenario, ModelOptions? options = null) =>
        new(scenario.BuildPlatform(), options);

    public PlatformConfig Platform { get; }
    public ModelOptions Options { get; }

    /// <summary>The current state as a persistent value (O(1); what engines read to make the next op).</summary>
    public ModelState View => _state;

    /// <summary>The current state in the shape every system exports (built on first use after
    /// each change; a fresh copy callers may keep).</summary>
    public SystemState State
    {
        get
        {
            if (_exported is null || !ReferenceEquals(_exportedFrom, _state))
            {
                _exported = _state.Export();
                _exportedFrom = _state;
            }
            return _exported;
        }
    }

    /// <summary>What the last op touched (cleared at the start of every op).</summary>
    public Footprint Footprint { get; } = new();

    public ModelSnapshot Snapshot() => new(_state);

    /// <summary>Returns to a saved state. Throws <see cref="ArgumentException"/> for a snapshot of
    /// a model over another platform object.</summary>
    public void Restore(ModelSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (!ReferenceEquals(snapshot.State.Platform.Config, Platform))
            throw new ArgumentException($"the snapshot is of a model over another platform ({snapshot.Platform.Preset})", nameof(snapshot));
        _state = snapshot.State;
        Footprint.Clear();
    }

    /// <summary>Runs <paramref name="op"/> with the model's own choices.</summary>
    public Outcome Apply(Op op)
    {
        _proposed = null;
        var before = BeginOp();
        var outcome = Dispatch(op);
        if (!outcome.IsSuccess) RollbackFailure(before);
        return outcome;
    }

    /// <summary>Judges an implementation's outcome for <paramref name="op"/> and, when it is
    /// allowed, adopts its choices (IOVAs, bounce slots, stale-or-fault in a lazy window).</summary>
    public StepResult Check(Op op, Outcome proposed)
    {
        if (proposed is Failed { Kind: DmaErrorKind.OutOfMemory } && Options.AllowResourceFailures && CanFailForMemory(op))
        {
            Footprint.Clear();
            return new StepResult(proposed, null);
        }

        _proposed = proposed;
        var before = BeginOp();
        Outcome outcome;
        try
        {
            outcome = Dispatch(op);
        }
        catch (DivergenceException e)
        {
            Rollback(before);
            _proposed = null;
            var modelOutcome = DryRun(op);
            return new StepResult(modelOutcome, new Divergence(e.Invariant, e.Message, modelOutcome, proposed));
        }
        finally
        {
            _proposed = null;
        }
        if (OutcomesAgree(outcome, proposed, out string invariant, out string why))
        {
            // A fault may have dropped a stale IOTLB entry the implementation did not hold.
            if (!outcome.IsSuccess && op is not DeviceAccess) RollbackFailure(before);
            return new StepResult(outcome, null);
        }
        Rollback(before);
        return new StepResult(outcome, new Divergence(invariant, why, outcome, proposed));
    }

    /// <summary>What the model would answer, leaving its state untouched.</summary>
    public Outcome DryRun(Op op)
    {
        _proposed = null;
        var before = BeginOp();
        var outcome = Dispatch(op);
        Rollback(before);
        return outcome;
    }

    private ModelState BeginOp()
    {
        _keptPci32Cleared.Clear();
        Footprint.Clear();
        return _state;
    }

    /// <summary>Undo everything: the state is as before the op (divergences, dry runs).</summary>
    private void Rollback(ModelState before)
    {
        _state = before;
        _keptPci32Cleared.Clear();
        Footprint.Clear();
    }

    /// <summary>Undo an op that failed, then redo what Linux keeps on that failure.</summary>
    private void RollbackFailure(ModelState before)
    {
        if (Planted(ModelPlant.FailedOpKeepsChanges)) return;
        var kept = _keptPci32Cleared.ToList();
        Rollback(before);
        foreach (int device in kept)
            SetDevice(Dev(device) with { Pci32First = false });
    }

    private Outcome Dispatch(Op op) => op switch
    {
        AllocDomain o => DoAllocDomain(o),
        Attach o => DoAttach(o),
        SetDomainType o => DoSetDomainType(o),
        SetMask o => DoSetMask(o),
        Map o => DoMap(o),
        Unmap o => DoUnmap(o.Device, o.Handle, MappingKind.Single, o.Length, o.Direction, null),
        MapSg o => DoMapSg(o),
        UnmapSg o => DoUnmap(o.Device, o.Handle, MappingKind.Sg, null, o.Direction, o.Nents),
        AllocCoherent o => DoAllocCoherent(o),
        FreeCoherent o => DoUnmap(o.Device, o.Handle, MappingKind.Coherent, o.Size, null, null),
        MapResource o => DoMapResource(o),
        UnmapResource o => DoUnmap(o.Device, o.Handle, MappingKind.Resource, o.Length, o.Direction, null),
        IommuMap o => DoIommuMap(o),
        IommuUnmap o => DoIommuUnmap(o),
        DeviceAccess o => DoDeviceAccess(o),
        SetupMsi o => DoSetupMsi(o),
        Flush o => DoFlush(o),
        Tick o => DoTick(o),
        _ => Fail(DmaErrorKind.InvalidArgument, $"unknown op {op?.GetType().Name}"),
    };

    /// <summary>Ops that allocate memory (IOVA nodes, page-table pages, domains) and so may fail
    /// with OutOfMemory under fault injection.</summary>
    public static bool CanFailForMemory(Op op) =>
        op is Map or MapSg or AllocCoherent or MapResource or IommuMap or SetupMsi or AllocDomain or Attach or SetDomainType;

    private static bool OutcomesAgree(Outcome model, Outcome proposed, out string invariant, out string why)
    {
        invariant = "REFINE";
        why = "";
        if (model is Failed mf && proposed is Failed pf)
        {
            if (mf.Kind == pf.Kind) return true;
            invariant = IsMisuse(mf.Kind) || IsMisuse(pf.Kind) ? "INV-10" : "REFINE";
            why = $"the model fails with {mf.Kind}, the implementation with {pf.Kind}";
            return false;
        }
        if (model == proposed) return true;
        (invariant, why) = (model, proposed) switch
        {
            (Failed m, _) => (IsMisuse(m.Kind) ? "INV-10" : "REFINE", $"the model fails with {m.Kind} ({m.Error.Message}); the implementation succeeds"),
            (_, Failed p) => ("REFINE", $"the implementation fails with {p.Kind} ({p.Error.Message}); the model succeeds"),
            (Accessed, Accessed) => ("INV-06", "the device reaches different physical bytes"),
            _ => ("REFINE", "the outcomes differ"),
        };
        return false;
    }

    private static bool IsMisuse(DmaErrorKind kind) => InvariantChecker.IsMisuseKind(kind);

    private static Failed Fail(DmaErrorKind kind, string message) => new(kind, message);

    private bool Planted(ModelPlant plant) => (Options.Plants & plant) != 0;

    /// <summary>Resolves an address reference against the device's live mappings.</summary>
    public bool TryResolve(int device, AddressRef reference, out ulong address)
    {
        address = 0;
        switch (reference)
        {
            case RawRef raw: address = raw.Address; return true;
            case LiveRef live:
                if (live.Index < 0 || _state.LiveMapping(device, live.Index) is not DmaMapping mapping) return false;
                address = unchecked(mapping.Dma.Value + live.Offset);
                return true;
            default: return false;
        }
    }

    /// <summary>Thrown inside an op when the implementation's choice is not one the model allows.</summary>
    private sealed class DivergenceException(string invariant, string message) : Exception(message)
    {
        public string Invariant { get; } = invariant;
    }

    private static DivergenceException Diverge(string invariant, string message) => new(invariant, message);
}
