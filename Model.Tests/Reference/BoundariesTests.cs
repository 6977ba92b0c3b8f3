using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Tests.Model;

/// <summary>
/// The boundaries the aiming generators derive from the model's state: a 32-bit device's next
/// maps fill the space above the MSI window in a few steps and then miss it by one granule; a
/// bypassing device's buffers end on its limit; iommu-maps end against reserved ranges.
/// </summary>
public class BoundariesTests
{
    private const int Sata = 1; // x86-vtd: PCI, 32-bit mask, 32-bit-first

    private static Aimed Pick(List<Aimed> aims, AimKind kind) => aims.First(a => a.Kind == kind);

    [Fact]
    public void RepeatedLargestFitsFillTheGapAboveTheMsiWindowAndTheFirstMisfitGoesBelowIt()
    {
        var model = new ModelSystem(Presets.Get(Presets.X86Vtd));
        var aims = new List<Aimed>();
        Boundaries.MapLengths(model.View, Sata, coherent: false, aims);
        // The gap the allocator fills next: [0xFEF00000, 0xFFFFFFFF], 17 MiB above the MSI window.
        Assert.Equal(16UL << 20, Pick(aims, AimKind.LargestFit).Value);
        Assert.Equal((16UL << 20) + 0x1000, Pick(aims, AimKind.FirstMisfit).Value);
        Assert.Contains(aims, a => a.Kind == AimKind.ClassEdge && a.Value == 33 * 0x1000UL);

        var placed = new List<ulong>();
        for (int i = 0; i < 2; i++)
        {
            aims.Clear();
            Boundaries.MapLengths(model.View, Sata, coherent: false, aims);
            var outcome = Assert.IsType<Mapped>(model.Apply(new Map(Sata, new PhysAddr(0x400_0000), Pick(aims, AimKind.LargestFit).Value, DmaDirection.ToDevice)));
            placed.Add(outcome.Dma.Value);
        }
        Assert.Equal([0xFF00_0000UL, 0xFEF0_0000UL], placed);
        // Full up to the MSI window: the next gap is the 2 MiB below it.
        var window = Presets.X86MsiWindow;
        var next = Boundaries.NextGap(model.View.DomainOf(model.View.Device(Sata)!)!, 0xFFFF_FFFF);
        Assert.Equal(window.Start - 1, next!.Value.Last);
    }

    [Fact]
    public void ABypassingDevicesBuffersEndOnItsLimitOrOneBytePast()
    {
        var platform = Presets.Get(Presets.Direct);
        var model = new ModelSystem(platform);
        var device = platform.Devices.First(d => d.Name == "isa-dma"); // 24-bit mask, RAM below it
        var aims = new List<Aimed>();
        Boundaries.BypassBuffers(model.View, device.Id, 0x1000, coherent: false, aims);
        ulong limit = device.BusDmaLimit == 0 ? device.DmaMask : Math.Min(device.DmaMask, device.BusDmaLimit);
        Assert.Contains(new Aimed(limit + 1 - 0x1000, AimKind.EndsOn), aims);
        Assert.Contains(new Aimed(limit + 2 - 0x1000, AimKind.EndsOnePast), aims);
        // Every aimed buffer lies in RAM.
        Assert.All(aims, a => Assert.Contains(platform.Ram, r => r.Contains(AddrRange.FromLength(a.Value, 0x1000))));
    }

    [Fact]
    public void IommuMapsEndRightBeforeAndOverlapReservedRanges()
    {
        var model = new ModelSystem(Presets.Get(Presets.X86Vtd));
        var allocated = Assert.IsType<DomainAllocated>(model.Apply(new AllocDomain(0, DomainType.Unmanaged)));
        var domain = model.View.Domain(allocated.Domain)!;
        var aims = new List<Aimed>();
        Boundaries.IommuMapIovas(domain, 0x2000, 0, aims);
        foreach (var reserved in domain.Reserved)
        {
            Assert.Contains(new Aimed(reserved.Range.Start - 0x2000, AimKind.EndsGranuleBefore), aims);
            Assert.Contains(new Aimed(reserved.Range.Start - 0x1000, AimKind.OverlapsByGranule), aims);
            Assert.Contains(new Aimed(reserved.Range.Last + 1, AimKind.StartsAfter), aims);
        }
        Assert.Contains(aims, a => a.Kind == AimKind.EndsOn && a.Value + 0x2000 - 1 == domain.Aperture.Last);
    }

    [Fact]
    public void AMappingsEndsAreItsLastByteOnePastAndItsLastGranule()
    {
        var ends = new List<(ulong Offset, ulong Length)>();
        Boundaries.MappingEnds(0x1800, 0x1000, ends);
        Assert.Equal([(0x17FFUL, 1UL), (0x17FFUL, 2UL), (0x1800UL, 1UL), (0x1FFFUL, 1UL), (0x2000UL, 1UL)], ends);
    }
}
