using DmaVerify.Contracts;

namespace DmaVerify.Optimized.Dma;

/// <summary>DMA-FQ: a ring per domain with start/finish counters and the 10 ms timer.
/// Only unmaps (which never fail), Flush and Tick touch it, so it needs no undo.</summary>
public sealed partial class OptimizedSystem
{
    public const int FlushQueueCapacity = 255;
    public const ulong FlushQueueTimeoutMs = 10;

    private void QueueForFlush(Dom domain, AddrRange allocation)
    {
        ReleaseCompletedFlushEntries(domain);
        if (domain.FlushQueue.Count >= FlushQueueCapacity) FlushDomain(domain);
        domain.Allocations[allocation.Start] = new IovaAllocation(allocation, AllocationOwner.FlushQueue);
        domain.FlushQueue.Enqueue(new FlushQueueEntry(allocation, domain.FlushStarted));
        domain.TimerDeadline ??= _nowMs + FlushQueueTimeoutMs;
    }

    private void ReleaseCompletedFlushEntries(Dom domain)
    {
        // Counters only grow, so the entries a finished flush covers are a prefix of the ring.
        bool early = Planted(OptimizedPlant.FlushQueueReleasesUnflushed);
        while (domain.FlushQueue.Count > 0 && (domain.FlushQueue.Peek().Counter < domain.FlushFinished || (early && domain.FlushQueue.Peek().Counter == domain.FlushFinished)))
        {
            var entry = domain.FlushQueue.Dequeue();
            if (domain.Allocations.TryGetValue(entry.Iova.Start, out var held) && held.Owner == AllocationOwner.FlushQueue && held.Range == entry.Iova)
                ReleaseAllocation(domain, entry.Iova);
        }
        if (domain.FlushQueue.Count == 0) domain.TimerDeadline = null;
    }

    private void FlushDomain(Dom domain)
    {
        domain.FlushStarted++;
        domain.Iotlb.Clear();
        domain.Table.ReleaseDeferred(domain.PendingFree); // no walk can reach them any more
        domain.FlushFinished++;
        ReleaseCompletedFlushEntries(domain);
    }

    private Outcome DoFlush(Flush op)
    {
        if (DomainOf(op.Domain) is not Dom domain) return Fail(DmaErrorKind.UnknownDomain, $"no domain {op.Domain}");
        FlushDomain(domain);
        return Done.Instance;
    }

    private Outcome DoTick(Tick op)
    {
        if (op.Milliseconds > ulong.MaxValue - _nowMs) return Fail(DmaErrorKind.Overflow, "time would pass 2^64 ms");
        _nowMs += op.Milliseconds;
        foreach (var domain in _domains.Values)
            if (domain.TimerDeadline is ulong deadline && deadline <= _nowMs) FlushDomain(domain);
        return Done.Instance;
    }
}
