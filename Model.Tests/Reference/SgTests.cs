using DmaVerify.Contracts;
using DmaVerify.Model;
using static DmaVerify.Tests.Model.Kit;

namespace DmaVerify.Tests.Model;

/// <summary>
/// iommu_dma_map_sg (docs/linux-facts.md#scatterlists): one IOVA range for the whole list, laid out
/// with boundary padding, then __finalise_sg's merge rule: an entry is appended to the current
/// output segment iff cur_len ≠ 0, it starts on a granule (s_off = 0), its IOVA is not on a segment
/// boundary, and max_seg_size − cur_len ≥ its length; an entry that does not end on a granule (or
/// was padded) stops merging. x86-vtd dev 3: non-PCI, 40-bit, boundary all-ones, max segment
/// 64 KiB; the IOVA range is the highest fit below 0xFF_FFFF_FFFF.
/// </summary>
public class SgTests
{
    private static DmaSegment Seg(ulong dma, ulong length) => new(new DmaAddr(dma), length);

    [Fact]
    public void PageAlignedEntriesMergeVirtually()
    {
        var m = New("x86-vtd");
        // iova_len 0x2000 → 2 granules aligned 0x2000 → [0xFF_FFFF_E000, 0xFF_FFFF_FFFF].
        var sg = m.MapSgOk(3, (0x1_0000_0000, K4), (0x1_0000_8000, K4));
        Assert.Equal(ValueList.Of(Seg(0xFF_FFFF_E000, 0x2000)), sg.Segments);
        Assert.Single(m.DomainOf(3).Allocations, a => a.Owner == AllocationOwner.Mapping);
        var accessed = m.AccessOk(3, 0xFF_FFFF_E000, 0x2000);
        Assert.Equal(ValueList.Of(
            new AccessChunk(0xFF_FFFF_E000, new PhysAddr(0x1_0000_0000), K4),
            new AccessChunk(0xFF_FFFF_F000, new PhysAddr(0x1_0000_8000), K4)), accessed.Chunks);
    }

    [Fact]
    public void EntryWithAnOffsetStartsANewSegment()
    {
        var m = New("x86-vtd");
        // Second entry at offset 0x100 → s_off ≠ 0 → new segment at its granule (0xFF_FFFF_F000) + 0x100.
        var sg = m.MapSgOk(3, (0x1_0000_0000, K4), (0x1_0000_8100, 0x100));
        Assert.Equal(ValueList.Of(Seg(0xFF_FFFF_E000, K4), Seg(0xFF_FFFF_F100, 0x100)), sg.Segments);
        m.Reaches(3, 0xFF_FFFF_F100, 0x1_0000_8100, 0x100);
    }

    [Fact]
    public void EntryEndingMidGranuleStopsMerging()
    {
        var m = New("x86-vtd");
        // First entry is 0x800 bytes: 0x800 + 0 < 0x1000 → cur_len = 0 → the next is its own segment.
        var sg = m.MapSgOk(3, (0x1_0000_0000, 0x800), (0x1_0000_8000, K4));
        Assert.Equal(ValueList.Of(Seg(0xFF_FFFF_E000, 0x800), Seg(0xFF_FFFF_F000, K4)), sg.Segments);
    }

    [Fact]
    public void MergingStopsAtMaxSegmentSize()
    {
        var m = New("x86-vtd");
        // 17 pages → iova_len 0x11000; 17 < 32 → rounded to 32 pages (0x20000), aligned 0x20000 →
        // [0xFF_FFFE_0000, 0xFF_FFFF_FFFF]. 16 pages fill 64 KiB; the 17th starts a new segment.
        var entries = Enumerable.Range(0, 17).Select(i => (0x1_0000_0000 + (ulong)i * 0x2000, K4)).ToArray();
        var sg = m.MapSgOk(3, entries);
        Assert.Equal(ValueList.Of(Seg(0xFF_FFFE_0000, 0x10000), Seg(0xFF_FFFF_0000, K4)), sg.Segments);
        Assert.Contains(m.DomainOf(3).Allocations, a => a.Range == new AddrRange(0xFF_FFFE_0000, 0xFF_FFFF_FFFF));
        // Only the 17 pages are mapped.
        Assert.Equal(17, m.DomainOf(3).Leaves.Values.Count(l => l.Iova >= 0xFF_FFFE_0000));
    }

    [Fact]
    public void BoundaryPaddingKeepsSegmentsInsideTheirBoundary()
    {
        // A device with a 64 KiB segment boundary (mask 0xFFFF).
        var dev = new DeviceConfig { Id = 4, Name = "boundary-64k", Iommu = 0, DmaMask = BitMask(40), CoherentMask = BitMask(32), SegmentBoundaryMask = 0xFFFF };
        var m = New(WithDevices("x86-vtd", dev));
        // A: 1 page (iova_len 0x1000). B: 0x10000 bytes; pad = (0xFFFF − 0x1000 + 1) & 0xFFFF = 0xF000,
        // non-zero and < L = 0x10000 → A's mapping grows by 0xF000, B starts at 0x10000;
        // iova_len = 0x20000 → 32 pages aligned 0x20000 → [0xFF_FFFE_0000, 0xFF_FFFF_FFFF].
        var sg = m.MapSgOk(4, (0x1_0000_0000, K4), (0x1_0010_0000, 0x10000));
        Assert.Equal(ValueList.Of(Seg(0xFF_FFFE_0000, K4), Seg(0xFF_FFFF_0000, 0x10000)), sg.Segments);
        Assert.All(sg.Segments, s => Assert.False(IovaSpace.CrossesBoundary(AddrRange.FromLength(s.Dma.Value, s.Length), 0xFFFF)));
        m.Reaches(4, 0xFF_FFFF_0000, 0x1_0010_0000, 0x10000);
        // The padding is mapped by extending A: the bytes after A's page follow A physically.
        m.Reaches(4, 0xFF_FFFE_1000, 0x1_0000_1000, K4);
    }

    [Fact]
    public void NoMergeAcrossASegmentBoundary()
    {
        // 64 KiB boundary, but a 1 MiB max segment so that only the boundary rule can split.
        var dev = new DeviceConfig { Id = 4, Name = "boundary-64k", Iommu = 0, DmaMask = BitMask(40), CoherentMask = BitMask(32), SegmentBoundaryMask = 0xFFFF, MaxSegmentSize = 0x10_0000 };
        var m = New(WithDevices("x86-vtd", dev));
        // A, B: 0x8000 each; B's pad = (0xFFFF − 0x8000 + 1) & 0xFFFF = 0x8000, not < 0x8000 − 1 → no
        // pad. C: pad = 0 (iova_len 0x10000 is on a boundary). iova_len 0x11000 = 17 pages → 32 pages
        // aligned 0x20000 → base 0xFF_FFFE_0000. B merges onto A (its IOVA 0x…8000 is not on a
        // boundary); C's IOVA 0xFF_FFFF_0000 is on one → new segment.
        var sg = m.MapSgOk(4, (0x1_0000_0000, 0x8000), (0x1_0010_0000, 0x8000), (0x1_0020_0000, K4));
        Assert.Equal(ValueList.Of(Seg(0xFF_FFFE_0000, 0x10000), Seg(0xFF_FFFF_0000, K4)), sg.Segments);
    }

    [Fact]
    public void PhysicallyContiguousEntriesAreOneRun()
    {
        var m = New("x86-vtd");
        var sg = m.MapSgOk(3, (0x1_0000_0000, K4), (0x1_0000_1000, K4));
        Assert.Equal(ValueList.Of(Seg(0xFF_FFFF_E000, 0x2000)), sg.Segments);
        m.Reaches(3, 0xFF_FFFF_E000, 0x1_0000_0000, 0x2000);
    }

    [Fact]
    public void UnmapSgRemovesTheWholeRange()
    {
        var m = New("amd-vi");
        m.MapSgOk(3, (0x1_0000_0000, K4), (0x1_0000_8100, 0x100));
        m.Ok<Done>(new UnmapSg(3, new LiveRef(0), 2, Bidi));
        Assert.DoesNotContain(m.DomainOf(3).Allocations, a => a.Owner == AllocationOwner.Mapping);
        Assert.DoesNotContain(m.DomainOf(3).Leaves.Values, l => l.Iova >= 0xFC_0000_0000);
        m.Faults(3, 0xFC_FFFF_E000);
    }

    [Fact]
    public void EntryLongerThanMaxSegmentSizeIsRefused()
    {
        var m = New("x86-vtd");
        m.RefusedWithoutChange(Sg(3, (0x1_0000_0000, 0x1_1000)), DmaErrorKind.InvalidArgument);
    }

    [Fact]
    public void DirectDeviceMapsEntriesOneByOne()
    {
        var m = New("direct");
        // dev 1 (32-bit): the first entry is capable (1:1), the second is bounced to 0x7C00_0000.
        var sg = m.MapSgOk(1, (0x1000_0000, K4), (0x1_0000_0000, K4));
        Assert.Equal(ValueList.Of(Seg(0x1000_0000, K4), Seg(0x7C00_0000, K4)), sg.Segments);
        Assert.Equal(ValueList.Of(new PhysAddr(0x7C00_0000)), sg.Bounces);
    }
}
