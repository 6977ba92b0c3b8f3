using DmaVerify.Contracts;
using DmaVerify.Model;
using static DmaVerify.Tests.Model.Kit;

namespace DmaVerify.Tests.Model;

/// <summary>
/// Strict vs lazy invalidation (docs/linux-facts.md#strict-and-lazy-invalidation, INV-08).
/// x86-vtd's default domain is DMA-FQ: an unmapped IOVA waits in the flush queue and the IOTLB may
/// still hold its walk until a flush (explicit, the 10 ms timer, or a full queue: 256 slots, 255
/// usable). amd-vi's default domain is strict: the IOTLB is invalidated at unmap and the IOVA is
/// free at once. Dev 0 of both presets is a 64-bit PCI device whose first IOVA is 0xFFFF_F000 (the
/// highest page below 4 GiB; see VtdAmdTests).
/// </summary>
public class FlushQueueTests
{
    private const ulong Phys = 0x1_0000_0000, First = 0xFFFF_F000;

    /// <summary>Map one page, let the device touch it (the walk is cached), unmap it.</summary>
    private static ModelSystem MapTouchUnmap(string preset)
    {
        var m = New(preset);
        Assert.Equal(First, m.MapOk(0, Phys, K4).Dma.Value);
        m.Reaches(0, First, Phys, K4);
        Assert.Equal(Done.Instance, m.Apply(new Unmap(0, new LiveRef(0), K4, Bidi)));
        return m;
    }

    [Fact]
    public void LazyUnmapLeavesAStaleIotlbEntryUntilTheTimerFires()
    {
        var m = MapTouchUnmap("x86-vtd");
        var domain = m.DomainOf(0);
        Assert.Equal(DomainType.DmaFq, domain.Type);
        Assert.DoesNotContain(domain.Leaves.Values, l => l.Iova == First);
        Assert.Contains(domain.Allocations, a => a.Owner == AllocationOwner.FlushQueue && a.Range == AddrRange.FromLength(First, K4));
        Assert.Equal(10UL, domain.TimerDeadline); // armed at now (0) + 10 ms

        // Stale: the IOTLB still translates the old IOVA.
        m.Reaches(0, First, Phys, K4);
        // 9 ms: the timer has not fired.
        m.Ok<Done>(new Tick(9));
        m.Reaches(0, First, Phys, K4);
        // 10 ms: it fires, flushes, and the access faults.
        m.Ok<Done>(new Tick(1));
        m.Faults(0, First);
        domain = m.DomainOf(0);
        Assert.Empty(domain.FlushQueue);
        Assert.Null(domain.TimerDeadline);
        Assert.DoesNotContain(domain.Allocations, a => a.Range.Contains(First));
    }

    [Fact]
    public void LazyUnmapIsStaleUntilAnExplicitFlush()
    {
        var m = MapTouchUnmap("x86-vtd");
        int domain = m.State.Device(0)!.Domain!.Value;
        m.Reaches(0, First, Phys, K4);
        m.Ok<Done>(new Flush(domain));
        m.Faults(0, First);
        Assert.Equal(1UL, m.DomainOf(0).FlushFinished);
    }

    [Fact]
    public void TickOfTenMillisecondsAtOnceFlushes()
    {
        var m = MapTouchUnmap("x86-vtd");
        m.Ok<Done>(new Tick(10));
        m.Faults(0, First);
    }

    [Fact]
    public void LazyIovaIsNotReusedBeforeTheFlush()
    {
        var m = MapTouchUnmap("x86-vtd");
        // 0xFFFF_F000 is held by the flush queue → the next page down.
        Assert.Equal(0xFFFF_E000UL, m.MapOk(0, Phys + 0x10_0000, K4).Dma.Value);
        m.Ok<Done>(new Flush(m.State.Device(0)!.Domain!.Value));
        // After the flush it is the highest free page again.
        Assert.Equal(First, m.MapOk(0, Phys + 0x20_0000, K4).Dma.Value);
        m.Reaches(0, First, Phys + 0x20_0000, K4);
    }

    [Fact]
    public void AccessThatWasNeverCachedFaultsRightAfterALazyUnmap()
    {
        // The stale window is only what the IOTLB holds: without an earlier walk there is nothing.
        var m = New("x86-vtd");
        m.MapOk(0, Phys, K4);
        m.Ok<Done>(new Unmap(0, new LiveRef(0), K4, Bidi));
        m.Faults(0, First);
    }

    [Fact]
    public void StrictUnmapFaultsAtOnceAndFreesTheIova()
    {
        var m = MapTouchUnmap("amd-vi");
        var domain = m.DomainOf(0);
        Assert.Equal(DomainType.Dma, domain.Type);
        m.Faults(0, First);
        domain = m.DomainOf(0);
        Assert.Empty(domain.FlushQueue);
        Assert.Empty(domain.Iotlb);
        Assert.Null(domain.TimerDeadline);
        // Reused immediately.
        Assert.Equal(First, m.MapOk(0, Phys + 0x10_0000, K4).Dma.Value);
    }

    [Fact]
    public void FullQueueFlushesSynchronously()
    {
        var m = New("x86-vtd");
        var domain = m.DomainOf(0);
        // 255 lazy unmaps fill the queue (255 usable slots of 256). Each map gets a fresh page
        // below 4 GiB because the earlier ones are still queued: 0xFFFF_F000, 0xFFFF_E000, ...
        for (int i = 0; i < ModelSystem.FlushQueueCapacity; i++)
        {
            Assert.Equal(First - (ulong)i * K4, m.MapOk(0, Phys + (ulong)i * K4, K4).Dma.Value);
            m.Ok<Done>(new Unmap(0, new LiveRef(0), K4, Bidi));
        }
        domain = m.DomainOf(0);
        Assert.Equal(255, domain.FlushQueue.Count);
        Assert.Equal(0UL, domain.FlushFinished);
        // The 256th unmap finds the queue full: one synchronous flush frees all 255, then it is queued.
        m.MapOk(0, Phys, K4);
        m.Ok<Done>(new Unmap(0, new LiveRef(0), K4, Bidi));
        domain = m.DomainOf(0);
        Assert.Equal(1UL, domain.FlushFinished);
        Assert.Single(domain.FlushQueue);
        Assert.Single(domain.Allocations, a => a.Owner == AllocationOwner.FlushQueue);
    }

    [Fact]
    public void DmaToDmaFqSwitchesLiveInPlace()
    {
        var m = New("amd-vi");
        int before = m.State.Device(0)!.Domain!.Value;
        m.MapOk(0, Phys + 0x10_0000, K4); // a live mapping does not prevent the switch
        m.Ok<Done>(new SetDomainType(0, DomainType.DmaFq));
        Assert.Equal(before, m.State.Device(0)!.Domain);
        Assert.Equal(DomainType.DmaFq, m.DomainOf(0).Type);
        // From now on unmaps are lazy: 0xFFFF_F000 is the live map; the next is 0xFFFF_E000.
        Assert.Equal(0xFFFF_E000UL, m.MapOk(0, Phys, K4).Dma.Value);
        m.Reaches(0, 0xFFFF_E000, Phys, K4);
        m.Ok<Done>(new Unmap(0, new LiveRef(1), K4, Bidi));
        m.Reaches(0, 0xFFFF_E000, Phys, K4);
    }

    [Fact]
    public void FlushQueueIsPerDomain()
    {
        var m = MapTouchUnmap("x86-vtd");
        // dev 3's domain flushing does not touch dev 0's stale entry.
        m.Ok<Done>(new Flush(m.State.Device(3)!.Domain!.Value));
        m.Reaches(0, First, Phys, K4);
    }
}
