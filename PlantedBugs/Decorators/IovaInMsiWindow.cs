using DmaVerify.Contracts;

namespace DmaVerify.PlantedBugs;

/// <summary>
/// An IOVA inside the MSI window: the implementation forgets to reserve the hardware MSI range
/// (planted by removing the Msi regions from the platform it is given, and fencing off the
/// space just above the window so the first top-down allocation below 4 GiB lands in it).
/// </summary>
public sealed class IovaInMsiWindow(ISystemUnderTest inner, PlatformConfig real) : Decorator(inner, "iova-in-msi-window")
{
    public static Func<PlatformConfig, ISystemUnderTest> Over(Func<PlatformConfig, ISystemUnderTest> factory) =>
        platform => new IovaInMsiWindow(factory(WithoutMsi(platform)), platform);

    private static PlatformConfig WithoutMsi(PlatformConfig platform) => platform with
    {
        Iommus = platform.Iommus.Select(i => i with
        {
            Regions = i.Regions.Where(r => r.Type != ReservedRegionType.Msi)
                .Concat(i.Regions.Where(r => r.Type == ReservedRegionType.Msi && r.Range.Last < 0xFFFF_FFFF)
                    .Select(r => new ReservedRegion(new AddrRange(r.Range.Last + 1, 0xFFFF_FFFF), ReservedRegionType.Reserved, Prot.None)))
                .ToArray(),
        }).ToArray(),
    };

    public override SystemState ExportState()
    {
        var state = Inner.ExportState();
        return new SystemState
        {
            Platform = real, NowMs = state.NowMs, Devices = state.Devices, Domains = state.Domains,
            Mappings = state.Mappings, Bounces = state.Bounces,
        };
    }
}
