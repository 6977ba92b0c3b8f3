using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>
/// Lazy invalidation (DMA-FQ): an unmapped IOVA waits in the domain's flush queue, tagged with
/// the flush-start count, and is reused only after a flush that started after it was queued has
/// finished. A queue holds <see cref="FlushQueueCapacity"/> entries (a 256-slot ring keeps one
/// free); a full queue flushes synchronously; the first entry arms a 10 ms timer that
/// <see cref="Tick"/> fires. One queue per domain: the model has one CPU.
/// </summary>
public sealed partial class ModelSystem
{
    public const int FlushQueueCapacity = 255;
    public const ulong FlushQueueTimeoutMs = 10;

    private void QueueForFlush(DomainState domain, IovaAllocation allocation)
    {
        ReleaseCompletedFlushEntries(domain);
        if (domain.FlushQueue.Count >= FlushQueueCapacity) FlushDomain(domain);
        RemoveFromList(domain.Allocations, allocation);
        AddToList(domain.Allocations, allocation with { Owner = AllocationOwner.FlushQueue });
        AddToList(domain.FlushQueue, new FlushQueueEntry(allocation.Range, domain.FlushStarted));
        if (domain.TimerDeadline is null)
            Set(domain.TimerDeadline, State.NowMs + FlushQueueTimeoutMs, v => domain.TimerDeadline = v);
    }

    /// <summary>Frees the entries a finished flush covers (counter &lt; finish count).</summary>
    private void ReleaseCompletedFlushEntries(DomainState domain)
    {
        foreach (var entry in domain.FlushQueue.Where(e => e.Counter < domain.FlushFinished).ToList())
        {
            RemoveFromList(domain.FlushQueue, entry);
            var held = domain.Allocations.FirstOrDefault(a => a.Owner == AllocationOwner.FlushQueue && a.Range == entry.Iova);
            if (held is not null) RemoveFromList(domain.Allocations, held);
        }
        if (domain.FlushQueue.Count == 0 && domain.TimerDeadline is not null)
            Set(domain.TimerDeadline, null, v => domain.TimerDeadline = v);
    }

    /// <summary>flush_iotlb_all with the start/finish counters, then free what it covered.</summary>
    private void FlushDomain(DomainState domain)
    {
        Set(domain.FlushStarted, domain.FlushStarted + 1, v => domain.FlushStarted = v);
        InvalidateIotlb(domain, null);
        Set(domain.FlushFinished, domain.FlushFinished + 1, v => domain.FlushFinished = v);
        ReleaseCompletedFlushEntries(domain);
    }

    private Outcome DoFlush(Flush op)
    {
        if (State.Domain(op.Domain) is not DomainState domain) return Fail(DmaErrorKind.UnknownDomain, $"no domain {op.Domain}");
        FlushDomain(domain);
        return Done.Instance;
    }

    private Outcome DoTick(Tick op)
    {
        if (op.Milliseconds > ulong.MaxValue - State.NowMs)
            return Fail(DmaErrorKind.Overflow, $"time would pass 2^64 ms (now {State.NowMs} ms, +{op.Milliseconds})");
        Set(State.NowMs, State.NowMs + op.Milliseconds, v => State.NowMs = v);
        foreach (var domain in State.Domains.Where(d => d.TimerDeadline <= State.NowMs).ToList())
            FlushDomain(domain);
        return Done.Instance;
    }
}
