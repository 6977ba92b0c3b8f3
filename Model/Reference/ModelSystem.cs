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

/// <summary>
/// The reference model: executable, obviously-right semantics of every op on every
/// preset. It keeps its state in a <see cref="SystemState"/> and changes it only through the
/// undo-logged helpers in ModelSystem.Mutations.cs, so a failing op leaves nothing behind but
/// what Linux keeps on failure (a PCI device's cleared 32-bit-first flag).
/// <see cref="Apply"/> runs an op with the model's default choices (highest fitting IOVA,
/// lowest bitmap slot, lowest bounce slot). <see cref="Check"/> judges an implementation's
/// outcome for the same op: when its choices are allowed the model adopts them; otherwise it
/// reports a <see cref="Divergence"/> and leaves its state as it was before the op.
/// </summary>
public sealed partial class ModelSystem
{
    public PlatformConfig Platform { get; }
    public ModelOptions Options { get; }
    public SystemState State { get; }

    /// <summary>Handles each device has unmapped and not been handed again (double-unmap detection).</summary>
    private readonly Dictionary<int, HashSet<ulong>> _unmappedHandles = [];
    private int _nextMappingId, _nextBounceId;
    /// <summary>The implementation's outcome while <see cref="Check"/> runs; null in <see cref="Apply"/>.</summary>
    private Outcome? _proposed;

    public ModelSystem(PlatformConfig platform, ModelOptions? options = null)
    {
        Platform = platform;
        Options = options ?? new ModelOptions();
        State = new SystemState { Platform = platform };
        BuildInitialState();
    }

    public static ModelSystem FromScenario(Scenario scenario, ModelOptions? options = null) =>
        new(scenario.BuildPlatform(), options);

    /// <summary>Runs <paramref name="op"/> with the model's own choices.</summary>
    public Outcome Apply(Op op)
    {
        _proposed = null;
        var undo = BeginOp();
        var outcome = Dispatch(op);
        if (!outcome.IsSuccess) undo.RollbackFailure();
        return outcome;
    }

    /// <summary>Judges an implementation's outcome for <paramref name="op"/> and, when it is
    /// allowed, adopts its choices (IOVAs, bounce slots, stale-or-fault in a lazy window).</summary>
    public StepResult Check(Op op, Outcome proposed)
    {
        if (proposed is Failed { Kind: DmaErrorKind.OutOfMemory } && Options.AllowResourceFailures && CanFailForMemory(op))
            return new StepResult(proposed, null);

        _proposed = proposed;
        var undo = BeginOp();
        Outcome outcome;
        try
        {
            outcome = Dispatch(op);
        }
        catch (DivergenceException e)
        {
            undo.Rollback();
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
            if (!outcome.IsSuccess && op is not DeviceAccess) undo.RollbackFailure();
            return new StepResult(outcome, null);
        }
        undo.Rollback();
        return new StepResult(outcome, new Divergence(invariant, why, outcome, proposed));
    }

    /// <summary>What the model would answer, leaving its state untouched.</summary>
    public Outcome DryRun(Op op)
    {
        _proposed = null;
        var undo = BeginOp();
        var outcome = Dispatch(op);
        undo.Rollback();
        return outcome;
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
        _ => Fail(DmaErrorKind.InvalidArgument, $"unknown op {op.GetType().Name}"),
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

    private static bool IsMisuse(DmaErrorKind kind) => kind is DmaErrorKind.InvalidDmaAddress or DmaErrorKind.UnknownHandle
        or DmaErrorKind.DoubleUnmap or DmaErrorKind.WrongSize or DmaErrorKind.WrongDirection or DmaErrorKind.WrongFunction
        or DmaErrorKind.SgCountMismatch;

    private static Failed Fail(DmaErrorKind kind, string message) => new(kind, message);

    /// <summary>Resolves an address reference against the device's live mappings.</summary>
    public bool TryResolve(int device, AddressRef reference, out ulong address)
    {
        address = 0;
        switch (reference)
        {
            case RawRef raw: address = raw.Address; return true;
            case LiveRef live:
                var mapping = State.MappingsOf(device).ElementAtOrDefault(live.Index);
                if (mapping is null) return false;
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
