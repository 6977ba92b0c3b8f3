using DmaVerify.Contracts;
using DmaVerify.Model;
using static DmaVerify.Tests.Model.Kit;

namespace DmaVerify.Tests.Model;

/// <summary>
/// k8-gart. Aperture 0x4000_0000..0x43FF_FFFF (64 MiB);
/// devices: 0 = 32-bit PCI, 1 = 64-bit PCI, 2 = 24-bit ISA; one domain for all of them.
/// need_iommu = !dma_capable, plus "inside the aperture is always remapped". The GART bitmap
/// allocator starts at bit 0, so on an empty table the first page handed out is the aperture's
/// first page.
/// </summary>
public class GartTests
{
    private const string Preset = "k8-gart";
    private static readonly AddrRange Aperture = Presets.K8Aperture;

    [Fact]
    public void ApertureIsTheDocumentedOne()
    {
        // 0x4000_0000 + 64 MiB - 1 = 0x43FF_FFFF; 32 MiB << order 1.
        Assert.Equal(new AddrRange(0x4000_0000, 0x43FF_FFFF), Aperture);
        Assert.Equal((UInt128)(32UL << 20 << 1), Aperture.Size);
    }

    [Theory]
    // dev 0 (mask 0xFFFF_FFFF): [0x1000_0000, +0x2000) ends at 0x1000_1FFF ≤ mask, below the aperture.
    [InlineData(0, 0x1000_0000UL, 0x2000UL)]
    // dev 0: above the aperture and still below 4 GiB: 0x8000_0FFF ≤ 0xFFFF_FFFF.
    [InlineData(0, 0x8000_0000UL, 0x1000UL)]
    // dev 0: ends at the last RAM byte below the MMIO hole: 0xBFFF_F000 + 0x1000 - 1 = 0xBFFF_FFFF ≤ mask.
    [InlineData(0, 0xBFFF_F000UL, 0x1000UL)]
    // dev 1 (64-bit mask): RAM above 4 GiB is capable, so bypassed.
    [InlineData(1, 0x1_0000_0000UL, 0x1000UL)]
    // dev 1: even RAM at 1 TiB, beyond what a GART PTE could hold, is bypassed (capable).
    [InlineData(1, 0x100_0000_0000UL, 0x1000UL)]
    // dev 2 (24-bit): 0x20_0FFF ≤ 0xFF_FFFF.
    [InlineData(2, 0x20_0000UL, 0x1000UL)]
    public void CapableBufferOutsideTheApertureIsBypassed(int device, ulong phys, ulong length)
    {
        var m = New(Preset);
        var mapped = m.MapOk(device, phys + 0x10, length - 0x10);
        Assert.Equal(phys + 0x10, mapped.Dma.Value);
        Assert.Null(mapped.Bounce);
        Assert.Empty(m.DomainOf(device).Leaves);
        Assert.Empty(m.DomainOf(device).Allocations);
        m.Reaches(device, phys + 0x10, phys + 0x10, length - 0x10);
    }

    [Fact]
    public void BufferInsideTheApertureIsRemappedIntoIt()
    {
        var m = New(Preset);
        // dev 1 could reach 0x4000_1234 1:1 (64-bit mask), but the aperture claims that bus range.
        // First free GART page: 0x4000_0000; in-page offset 0x1234 % 0x1000 = 0x234 → 0x4000_0234.
        var mapped = m.MapOk(1, 0x4000_1234, 0x100);
        Assert.Equal(0x4000_0234UL, mapped.Dma.Value);
        Assert.True(Aperture.Contains(mapped.Dma.Value));
        Assert.Equal([new Leaf(0x4000_0000, 0x4000_1000, K4, Prot.Read | Prot.Write)], m.DomainOf(1).Leaves.Values);
        m.Reaches(1, 0x4000_0234, 0x4000_1234, 0x100);
    }

    [Fact]
    public void BufferStraddlingTheApertureStartIsRemappedWhole()
    {
        var m = New(Preset);
        // [0x3FFF_F000, 0x4000_0FFF] overlaps the aperture's first page → remapped, 2 pages at 0x4000_0000.
        var mapped = m.MapOk(0, 0x3FFF_F000, 0x2000);
        Assert.Equal(0x4000_0000UL, mapped.Dma.Value);
        Assert.Equal(
            [new Leaf(0x4000_0000, 0x3FFF_F000, K4, Prot.Read | Prot.Write), new Leaf(0x4000_1000, 0x4000_0000, K4, Prot.Read | Prot.Write)],
            m.DomainOf(0).Leaves.Values);
        var accessed = m.AccessOk(0, 0x4000_0000, 0x2000);
        Assert.Equal(ValueList.Of(new AccessChunk(0x4000_0000, new PhysAddr(0x3FFF_F000), 0x2000)), accessed.Chunks);
    }

    [Fact]
    public void BufferAboveTheMaskIsRemapped()
    {
        var m = New(Preset);
        // dev 0: 0x1_0000_0000 + 0x1000 - 1 = 0x1_0000_0FFF > 0xFFFF_FFFF → not capable → GART.
        var mapped = m.MapOk(0, 0x1_0000_0080, 0xF00);
        Assert.Equal(0x4000_0080UL, mapped.Dma.Value);
        m.Reaches(0, 0x4000_0080, 0x1_0000_0080, 0xF00);
        // A second one takes the next page (0x4000_1000), and the two stay distinct.
        Assert.Equal(0x4000_1000UL, m.MapOk(0, 0x1_0020_0000, 0x1000).Dma.Value);
        m.Reaches(0, 0x4000_1000, 0x1_0020_0000, 0x1000);
    }

    [Theory]
    // 0x100_0FFF > 0xFF_FFFF: needs the GART, whose aperture starts at 0x4000_0000 > 0xFF_FFFF.
    [InlineData(0x100_0000UL)]
    // Inside the aperture: must be remapped, and the aperture is out of reach.
    [InlineData(0x4000_0000UL)]
    // Above 4 GiB.
    [InlineData(0x1_0000_0000UL)]
    public void TwentyFourBitDeviceCannotReachTheAperture(ulong phys)
    {
        var m = New(Preset);
        m.RefusedWithoutChange(new Map(2, new PhysAddr(phys), 0x1000, Bidi), DmaErrorKind.NotCapable);
        Assert.Empty(m.State.Mappings);
    }

    [Fact]
    public void TwentyFourBitDeviceBufferEndingAtItsMaskIsBypassed()
    {
        var m = New(Preset);
        // 0xFF_F000 + 0x1000 - 1 = 0xFF_FFFF = the mask.
        Assert.Equal(0xFF_F000UL, m.MapOk(2, 0xFF_F000, 0x1000).Dma.Value);
        // one byte more → 0x100_0000 > mask → needs the GART → unreachable.
        m.Refused(new Map(2, new PhysAddr(0xFF_F000), 0x1001, Bidi), DmaErrorKind.NotCapable);
    }

    [Fact]
    public void CoherentAllocationUsesTheCoherentMask()
    {
        var m = New(Preset);
        // dev 1: 64-bit streaming mask → 0x1_0000_0000 is bypassed; 32-bit coherent mask → the same
        // buffer as a coherent allocation is remapped at the first aperture page.
        Assert.Equal(0x1_0000_0000UL, m.MapOk(1, 0x1_0000_0000, K4).Dma.Value);
        Assert.Equal(0x4000_0000UL, m.Ok<Mapped>(new AllocCoherent(1, new PhysAddr(0x1_0000_0000), K4)).Dma.Value);
        m.Reaches(1, 0x4000_0000, 0x1_0000_0000, K4);
    }

    [Fact]
    public void UnmappedAperturePageAborts()
    {
        var m = New(Preset);
        m.Faults(0, 0x4100_0000);
        m.Faults(0, Aperture.Start);
        m.Faults(0, Aperture.Last, 1);
    }

    [Fact]
    public void AccessRunningFromAMappedIntoAnUnmappedAperturePageAborts()
    {
        var m = New(Preset);
        Assert.Equal(0x4000_0000UL, m.MapOk(0, 0x1_0000_0000, 0x1000).Dma.Value);
        m.Reaches(0, 0x4000_0F00, 0x1_0000_0F00, 0x100);
        // 0x4000_0F00 + 0x200 runs into 0x4000_1000, which is not mapped.
        m.Faults(0, 0x4000_0F00, 0x200);
    }

    [Fact]
    public void UnmappedGartPageAbortsAfterUnmap()
    {
        var m = New(Preset);
        var mapped = m.MapOk(0, 0x1_0000_0000, 0x1000);
        m.Reaches(0, mapped.Dma.Value, 0x1_0000_0000, 0x1000);
        Assert.Equal(Done.Instance, m.Apply(new Unmap(0, new LiveRef(0), 0x1000, Bidi)));
        m.Faults(0, mapped.Dma.Value);
        Assert.Empty(m.DomainOf(0).Leaves);
        Assert.Empty(m.DomainOf(0).Allocations);
    }

    [Fact]
    public void AllDevicesShareTheOneGartDomain()
    {
        var m = New(Preset);
        int domain = m.State.Device(0)!.Domain!.Value;
        Assert.All(m.State.Devices, d => Assert.Equal(domain, d.Domain));
        // dev 0's remapped page is visible to dev 1 at the same bus address (one GATT).
        var mapped = m.MapOk(0, 0x1_0000_0000, 0x1000);
        m.Reaches(1, mapped.Dma.Value, 0x1_0000_0000, 0x1000);
    }

    [Fact]
    public void SgMergesOnlyRemappedChunks()
    {
        var m = New(Preset);
        // dev 0 (32-bit): A and B are above 4 GiB (need the GART), A ends on a page boundary and B
        // starts at offset 0, and 0x1000 + 0x1000 ≤ max_segment_size 0x10000 → one 2-page chunk at
        // the first free aperture page 0x4000_0000. C and D are below 4 GiB (bypassed) and stay two
        // segments even though D follows C physically.
        var sg = m.MapSgOk(0, (0x1_0000_0000, 0x1000), (0x1_0000_5000, 0x1000), (0x2000_0000, 0x1000), (0x2000_1000, 0x1000));
        Assert.Equal(ValueList.Of(
            new DmaSegment(new DmaAddr(0x4000_0000), 0x2000),
            new DmaSegment(new DmaAddr(0x2000_0000), 0x1000),
            new DmaSegment(new DmaAddr(0x2000_1000), 0x1000)), sg.Segments);
        var accessed = m.AccessOk(0, 0x4000_0000, 0x2000);
        Assert.Equal(ValueList.Of(
            new AccessChunk(0x4000_0000, new PhysAddr(0x1_0000_0000), 0x1000),
            new AccessChunk(0x4000_1000, new PhysAddr(0x1_0000_5000), 0x1000)), accessed.Chunks);
        Assert.Single(m.DomainOf(0).Allocations);

        Assert.Equal(Done.Instance, m.Apply(new UnmapSg(0, new LiveRef(0), 4, Bidi)));
        Assert.Empty(m.DomainOf(0).Leaves);
        Assert.Empty(m.DomainOf(0).Allocations);
    }

    [Fact]
    public void SgEntryEndingMidPageIsNotMerged()
    {
        var m = New(Preset);
        // A = 0x800 bytes ends at offset 0x800 → B starts a new chunk: A at 0x4000_0000 (1 page),
        // B at the next page 0x4000_1000.
        var sg = m.MapSgOk(0, (0x1_0000_0000, 0x800), (0x1_0000_5000, 0x1000));
        Assert.Equal(ValueList.Of(
            new DmaSegment(new DmaAddr(0x4000_0000), 0x800),
            new DmaSegment(new DmaAddr(0x4000_1000), 0x1000)), sg.Segments);
    }

    [Fact]
    public void SgEntryStartingMidPageIsNotMerged()
    {
        var m = New(Preset);
        // B has offset 0x800 → own chunk on page 0x4000_1000, DMA address keeps the offset.
        var sg = m.MapSgOk(0, (0x1_0000_0000, 0x1000), (0x1_0000_5800, 0x800));
        Assert.Equal(ValueList.Of(
            new DmaSegment(new DmaAddr(0x4000_0000), 0x1000),
            new DmaSegment(new DmaAddr(0x4000_1800), 0x800)), sg.Segments);
        m.Reaches(0, 0x4000_1800, 0x1_0000_5800, 0x800);
    }

    [Fact]
    public void SgMergeStopsAtMaxSegmentSize()
    {
        var m = New(Preset);
        // 17 remapped pages, max_segment_size 0x10000 = 16 pages → chunks of 16 and 1 pages:
        // 0x4000_0000 + 0x10000, then 0x4001_0000 + 0x1000.
        var entries = Enumerable.Range(0, 17).Select(i => (0x1_0000_0000 + (ulong)i * 0x2000, K4)).ToArray();
        var sg = m.MapSgOk(0, entries);
        Assert.Equal(ValueList.Of(
            new DmaSegment(new DmaAddr(0x4000_0000), 0x10000),
            new DmaSegment(new DmaAddr(0x4001_0000), 0x1000)), sg.Segments);
    }
}
