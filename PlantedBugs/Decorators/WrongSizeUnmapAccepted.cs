using DmaVerify.Contracts;

namespace DmaVerify.PlantedBugs;

/// <summary>An unmap of the wrong size accepted: instead of dma-debug's "frees DMA memory with
/// different size", the mapping is torn down with its real size and the call succeeds.</summary>
public sealed class WrongSizeUnmapAccepted(ISystemUnderTest inner) : Decorator(inner, "wrong-size-unmap-accepted")
{
    public static Func<PlatformConfig, ISystemUnderTest> Over(Func<PlatformConfig, ISystemUnderTest> factory) =>
        platform => new WrongSizeUnmapAccepted(factory(platform));

    public override Outcome Apply(Op op)
    {
        var state = op is Unmap or FreeCoherent or UnmapResource ? Inner.ExportState() : null;
        var outcome = Inner.Apply(op);
        if (state is null || outcome is not Failed { Kind: DmaErrorKind.WrongSize }) return outcome;
        Op corrected = op switch
        {
            Unmap u when Resolve(state, u.Device, u.Handle) is { } m => u with { Length = m.Size },
            FreeCoherent f when Resolve(state, f.Device, f.Handle) is { } m => f with { Size = m.Size },
            UnmapResource r when Resolve(state, r.Device, r.Handle) is { } m => r with { Length = m.Size },
            _ => op,
        };
        return ReferenceEquals(corrected, op) ? outcome : Inner.Apply(corrected);
    }
}
