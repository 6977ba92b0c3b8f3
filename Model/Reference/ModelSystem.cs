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
/// The reference model (DESIGN §4): executable, obviously-right semantics of every op on every
/// preset. <see cref="Apply"/> runs an op with the model's default choices;
/// <see cref="Check"/> judges an implementation's outcome for the same op, adopts its choices
/// when they are allowed, and reports a divergence otherwise.
/// </summary>
public sealed partial class ModelSystem
{
    public PlatformConfig Platform { get; }
    public ModelOptions Options { get; }
    public SystemState State { get; }

    public ModelSystem(PlatformConfig platform, ModelOptions? options = null)
    {
        Platform = platform;
        Options = options ?? new ModelOptions();
        State = new SystemState { Platform = platform };
    }

    public static ModelSystem FromScenario(Scenario scenario, ModelOptions? options = null) =>
        new(scenario.BuildPlatform(), options);

    public Outcome Apply(Op op) => throw new NotImplementedException("model executor: in progress");

    public StepResult Check(Op op, Outcome proposed) => throw new NotImplementedException("model executor: in progress");

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
}
