using DmaVerify.Contracts;
using DmaVerify.Optimized.Dma;

namespace DmaVerify.Tests.Dma;

/// <summary>Strict unmaps drop exactly the IOTLB entries their range overlaps, whatever the
/// entries' leaf sizes and however many other entries are cached (with few, the invalidation
/// scans the entries; with many, it probes the leaf-aligned keys of the range per page size).</summary>
public class IotlbInvalidationTests
{
    private const int Untrusted = 2; // x86-vtd: strict DMA domain (no flush queue)

    [Theory]
    [InlineData(0x20_0000UL, 0x0UL, 0)]       // a 2 MiB leaf, touched at its start
    [InlineData(0x20_0000UL, 0x1F_F000UL, 0)] // the same leaf, touched at its last page
    [InlineData(0x40_0000UL, 0x30_0000UL, 0)] // two 2 MiB leaves, the second one touched
    [InlineData(0x3000UL, 0x2000UL, 0)]       // 4 KiB leaves
    [InlineData(0x3000UL, 0x2000UL, 40)]      // the same among 40 other cached entries
    [InlineData(0x8000UL, 0x7000UL, 40)]
    public void AStrictUnmapLeavesNoEntryOfItsRange(ulong length, ulong touched, int others)
    {
        var platform = Presets.Get(Presets.X86Vtd);
        var system = new OptimizedSystem(platform);
        var keep = Assert.IsType<Mapped>(system.Apply(new Map(Untrusted, new PhysAddr(0x1_4000_0000), 0x1000, DmaDirection.ToDevice)));
        var mapped = Assert.IsType<Mapped>(system.Apply(new Map(Untrusted, new PhysAddr(0x1_0000_0000), length, DmaDirection.ToDevice)));
        Assert.IsType<Accessed>(system.Apply(new DeviceAccess(Untrusted, new RawRef(mapped.Dma.Value + touched), 4, Write: false)));
        Assert.IsType<Accessed>(system.Apply(new DeviceAccess(Untrusted, new RawRef(keep.Dma.Value), 4, Write: false)));
        var extra = new List<Mapped>();
        for (int i = 0; i < others; i++)
        {
            var m = Assert.IsType<Mapped>(system.Apply(new Map(Untrusted, new PhysAddr(0x1_8000_0000 + (ulong)i * 0x1000), 0x1000, DmaDirection.ToDevice)));
            Assert.IsType<Accessed>(system.Apply(new DeviceAccess(Untrusted, new RawRef(m.Dma.Value), 4, Write: false)));
            extra.Add(m);
        }
        var domain = system.ExportState().Domains.Single(d => d.Id == system.ExportState().Device(Untrusted)!.Domain);
        Assert.Equal(2 + others, domain.Iotlb.Count);

        Assert.True(system.Apply(new Unmap(Untrusted, new RawRef(mapped.Dma.Value), length, DmaDirection.ToDevice)).IsSuccess);
        domain = system.ExportState().Domains.Single(d => d.Id == domain.Id);
        Assert.Equal(1 + others, domain.Iotlb.Count); // only the other mappings' entries
        Assert.Contains(domain.Iotlb, e => e.Range.Contains(keep.Dma.Value));
        Assert.All(extra, m => Assert.Contains(domain.Iotlb, e => e.Range.Contains(m.Dma.Value)));
        Assert.IsType<Failed>(system.Apply(new DeviceAccess(Untrusted, new RawRef(mapped.Dma.Value + touched), 4, Write: false)));
    }
}
