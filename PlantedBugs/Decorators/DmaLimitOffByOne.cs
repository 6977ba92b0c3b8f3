using DmaVerify.Contracts;

namespace DmaVerify.PlantedBugs;

/// <summary>
/// Off-by-one in the DMA limit: the implementation takes min(mask, bus limit) - 1 as the last
/// byte a device can reach (planted by handing the real implementation a bus limit one lower;
/// the exported state shows the true device config). A buffer whose last byte is exactly the
/// limit is then refused or bounced although it is DMA-capable.
/// </summary>
public sealed class DmaLimitOffByOne(ISystemUnderTest inner, PlatformConfig real) : Decorator(inner, "dma-limit-off-by-one")
{
    public static Func<PlatformConfig, ISystemUnderTest> Over(Func<PlatformConfig, ISystemUnderTest> factory) =>
        platform => new DmaLimitOffByOne(factory(Lowered(platform)), platform);

    private static PlatformConfig Lowered(PlatformConfig platform) => platform with
    {
        Devices = platform.Devices.Select(d => d with { BusDmaLimit = Limit(d) - 1 }).ToArray(),
    };

    private static ulong Limit(DeviceConfig d) => d.BusDmaLimit == 0 ? d.DmaMask : Math.Min(d.BusDmaLimit, d.DmaMask);

    public override SystemState ExportState()
    {
        var state = Inner.ExportState();
        var restored = new SystemState
        {
            Platform = real, NowMs = state.NowMs, Devices = state.Devices, Domains = state.Domains,
            Mappings = state.Mappings, Bounces = state.Bounces,
        };
        foreach (var device in restored.Devices)
            if (real.Device(device.Id) is { } config && device.BusDmaLimit == Limit(config) - 1)
                device.BusDmaLimit = config.BusDmaLimit;
        return restored;
    }
}
