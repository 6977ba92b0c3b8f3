using DmaVerify.Contracts;
using DmaVerify.PlantedBugs;

namespace DmaVerify.Properties.Tests.PlantedBugs;

/// <summary>
/// The old, wrong behaviours of four model rules (docs/model-semantics.md), planted over a real
/// implementation: the implementation runs on a distorted platform, and its state is exported
/// with the real one, so the invariant checker judges what the old rule produced.
/// </summary>
public sealed class OnDistortedPlatform(ISystemUnderTest inner, PlatformConfig real, string bug) : Decorator(inner, bug)
{
    public override SystemState ExportState()
    {
        var state = Inner.ExportState();
        return new SystemState
        {
            Platform = real, NowMs = state.NowMs, Devices = state.Devices, Domains = state.Domains,
            Mappings = state.Mappings, Bounces = state.Bounces,
        };
    }

    private static Func<PlatformConfig, ISystemUnderTest> Over(Func<PlatformConfig, ISystemUnderTest> factory, string bug, Func<PlatformConfig, PlatformConfig> distort) =>
        platform => new OnDistortedPlatform(factory(distort(platform)), platform, bug);

    /// <summary>dma-direct hands out 1:1 bus addresses in the GART aperture (it forgot the aperture).</summary>
    public static Func<PlatformConfig, ISystemUnderTest> DirectMapInGartAperture(Func<PlatformConfig, ISystemUnderTest> factory) =>
        Over(factory, "direct-map-in-gart-aperture", p => p with { Iommus = p.Iommus.Select(i => i with { Gart = null }).ToArray() });

    /// <summary>User iommu_map refuses only Msi and Reserved regions (the old rule): Direct
    /// regions are treated as relaxable and the SW_MSI window is not reported.</summary>
    public static Func<PlatformConfig, ISystemUnderTest> UserMapOverReservedRegion(Func<PlatformConfig, ISystemUnderTest> factory) =>
        Over(factory, "user-map-over-reserved-region", p => p with
        {
            Iommus = p.Iommus.Select(i => i with
            {
                Regions = i.Regions.Where(r => r.Type != ReservedRegionType.SwMsi)
                    .Select(r => r.Type == ReservedRegionType.Direct ? r with { Type = ReservedRegionType.DirectRelaxable } : r).ToArray(),
            }).ToArray(),
        });

    /// <summary>A virtio device without ACCESS_PLATFORM behind GART/TCE joins the unit's domain
    /// (the old initial state).</summary>
    public static Func<PlatformConfig, ISystemUnderTest> VirtioBypassInTranslatingDomain(Func<PlatformConfig, ISystemUnderTest> factory) =>
        Over(factory, "virtio-bypass-in-translating-domain", p => p with
        {
            Devices = p.Devices.Select(d => d.BypassesIommu ? d with { Virtio = null } : d).ToArray(),
        });
}

/// <summary>An implementation that claims exhaustion for every scatterlist with more than one
/// entry, whether or not the entries fit (what INV-11 must still catch now that the model judges
/// multi-allocation lists at the entry that failed).</summary>
public sealed class SgExhaustionClaimed(ISystemUnderTest inner) : Decorator(inner, "sg-exhaustion-claimed")
{
    public static Func<PlatformConfig, ISystemUnderTest> Over(Func<PlatformConfig, ISystemUnderTest> factory) =>
        platform => new SgExhaustionClaimed(factory(platform));

    public override Outcome Apply(Op op) => op is MapSg { Segments.Count: > 1 }
        ? new Failed(DmaErrorKind.OutOfIova, "planted: no room")
        : Inner.Apply(op);
}
