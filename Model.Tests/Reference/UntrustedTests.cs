using DmaVerify.Contracts;
using DmaVerify.Model;
using static DmaVerify.Tests.Model.Kit;

namespace DmaVerify.Tests.Model;

/// <summary>
/// Untrusted devices (docs/linux-facts.md#untrusted-devices, INV-12): x86-vtd dev 2 is an
/// external-facing 64-bit PCI device. Its default domain is strict DMA; a buffer whose start or
/// length is not granule aligned is bounced into a swiotlb span of whole granules that keeps the
/// in-granule offset (alloc_align_mask = granule - 1), with the padding zeroed; the bounce's
/// granules are then mapped normally. Its IOVAs are 32-bit first (highest page below 4 GiB:
/// 0xFFFF_F000). The swiotlb pool starts at 0x7C00_0000.
/// </summary>
public class UntrustedTests
{
    private const string Preset = "x86-vtd";
    private const int Dev = 2;
    private const ulong Pool = 0x7C00_0000;

    [Fact]
    public void SubGranuleBufferIsBouncedIntoWholeZeroedGranules()
    {
        var m = New(Preset);
        // 0x1_0000_0100 + 0x200: offset 0x100, 0x100 + 0x200 → 1 granule. Bounce span = the pool's
        // first granule [0x7C00_0000, 0x7C00_0FFF], buffer copy at 0x7C00_0100; IOVA 0xFFFF_F000 → dma
        // 0xFFFF_F100.
        var mapped = m.MapOk(Dev, 0x1_0000_0100, 0x200);
        Assert.Equal(new Mapped(new DmaAddr(0xFFFF_F100), new PhysAddr(Pool + 0x100)), mapped);
        var slot = Assert.Single(m.State.Bounces);
        Assert.Equal(new BounceSlot(slot.Id, Dev, new AddrRange(Pool, Pool + 0xFFF), 0x1_0000_0100, Pool + 0x100, 0x200, PaddingZeroed: true), slot);
        Assert.Contains(new Leaf(0xFFFF_F000, Pool, K4, Prot.Read | Prot.Write), m.DomainOf(Dev).Leaves.Values);
        // The device reaches the copy, and around it only the (zeroed) bounce granule — never the
        // original page's neighbours.
        m.Reaches(Dev, 0xFFFF_F100, Pool + 0x100, 0x200);
        m.Reaches(Dev, 0xFFFF_F000, Pool, K4);
    }

    [Fact]
    public void AlignedBufferIsNotBounced()
    {
        var m = New(Preset);
        var mapped = m.MapOk(Dev, 0x1_0000_2000, K4);
        Assert.Equal(new Mapped(new DmaAddr(0xFFFF_F000)), mapped);
        Assert.Empty(m.State.Bounces);
        m.Reaches(Dev, 0xFFFF_F000, 0x1_0000_2000, K4);
    }

    [Fact]
    public void AlignedStartWithAShortLengthIsBounced()
    {
        var m = New(Preset);
        // length 0x800 is not a granule multiple → bounced; span [0x7C00_0000, 0x7C00_0FFF].
        Assert.Equal(new Mapped(new DmaAddr(0xFFFF_F000), new PhysAddr(Pool)), m.MapOk(Dev, 0x1_0000_3000, 0x800));
        Assert.Equal(new AddrRange(Pool, Pool + 0xFFF), Assert.Single(m.State.Bounces).Slot);
    }

    [Fact]
    public void BufferCrossingAGranuleIsBouncedIntoTwoGranules()
    {
        var m = New(Preset);
        m.MapOk(Dev, 0x1_0000_3000, 0x800); // takes [Pool, Pool+0xFFF] and IOVA 0xFFFF_F000
        // 0x1_0000_4F00 + 0x200: offset 0xF00, 0xF00 + 0x200 = 0x1100 → 2 granules. Bounce span
        // [0x7C00_1000, 0x7C00_2FFF], copy at 0x7C00_1F00. IOVA: 2 pages aligned 0x2000 below
        // 0xFFFF_F000 → [0xFFFF_C000, 0xFFFF_DFFF] → dma 0xFFFF_CF00.
        var mapped = m.MapOk(Dev, 0x1_0000_4F00, 0x200);
        Assert.Equal(new Mapped(new DmaAddr(0xFFFF_CF00), new PhysAddr(Pool + 0x1F00)), mapped);
        Assert.Equal(new AddrRange(Pool + 0x1000, Pool + 0x2FFF), m.State.Bounces[1].Slot);
        Assert.All(m.State.Bounces, b => Assert.True(b.PaddingZeroed));
        m.Reaches(Dev, 0xFFFF_CF00, Pool + 0x1F00, 0x200);
    }

    [Fact]
    public void UnmapIsStrictAndReleasesTheBounce()
    {
        var m = New(Preset);
        m.MapOk(Dev, 0x1_0000_0100, 0x200);
        m.Reaches(Dev, 0xFFFF_F100, Pool + 0x100, 0x200);
        m.Ok<Done>(new Unmap(Dev, new LiveRef(0), 0x200, Bidi));
        m.Faults(Dev, 0xFFFF_F100);
        Assert.Empty(m.State.Bounces);
        Assert.DoesNotContain(m.DomainOf(Dev).Allocations, a => a.Range.Contains(0xFFFF_F000));
    }

    [Theory]
    [InlineData(DomainType.DmaFq)]
    [InlineData(DomainType.Identity)]
    public void AlwaysStrict(DomainType type)
    {
        var m = New(Preset);
        Assert.Equal(DomainType.Dma, m.DomainOf(Dev).Type);
        m.RefusedWithoutChange(new SetDomainType(Dev, type), DmaErrorKind.UntrustedPolicy);
        Assert.Equal(DomainType.Dma, m.DomainOf(Dev).Type);
    }

    [Fact]
    public void AttachingToAnIdentityDomainIsRefused()
    {
        var m = New(Preset);
        int identity = m.AllocDomainOk(0, DomainType.Identity);
        m.RefusedWithoutChange(new Attach(Dev, identity), DmaErrorKind.UntrustedPolicy);
    }

    [Fact]
    public void SgEntriesAreMappedOneByOneWithoutMerging()
    {
        var m = New(Preset);
        // Aligned entries: not bounced, but still mapped individually (no merging): 0xFFFF_F000 and
        // 0xFFFF_E000, two segments.
        var sg = m.MapSgOk(Dev, (0x1_0000_0000, K4), (0x1_0000_8000, K4));
        Assert.Equal(ValueList.Of(new DmaSegment(new DmaAddr(0xFFFF_F000), K4), new DmaSegment(new DmaAddr(0xFFFF_E000), K4)), sg.Segments);
        Assert.Null(sg.Bounces);
        // Unaligned entries are each bounced: the pool's first two granules.
        var bounced = m.MapSgOk(Dev, (0x1_0001_0010, 0x20), (0x1_0002_0030, 0x40));
        Assert.Equal(ValueList.Of(new PhysAddr(Pool + 0x10), new PhysAddr(Pool + 0x1030)), bounced.Bounces);
        Assert.Equal(ValueList.Of(new DmaSegment(new DmaAddr(0xFFFF_D010), 0x20), new DmaSegment(new DmaAddr(0xFFFF_C030), 0x40)), bounced.Segments);
    }
}
