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

    private void QueueForFlush(int domainId, AddrRange allocation)
    {
        ReleaseCompletedFlushEntries(domainId);
        if (Dom(domainId).FlushQueueCount >= FlushQueueCapacity) FlushDomain(domainId);
        SetAllocationOwner(domainId, allocation, AllocationOwner.FlushQueue);
        var domain = Dom(domainId);
        SetFlushQueue(domainId, domain.FlushQueue.Enqueue(new FlushQueueEntry(allocation, domain.FlushStarted)), domain.FlushQueueCount + 1);
        if (Dom(domainId).TimerDeadline is null)
            SetTimer(domainId, _state.NowMs + FlushQueueTimeoutMs);
    }

    /// <summary>Frees the entries a finished flush covers (counter &lt; finish count). Counters
    /// never decrease along the queue, so they are a prefix of it.</summary>
    private void ReleaseCompletedFlushEntries(int domainId)
    {
        var domain = Dom(domainId);
        var queue = domain.FlushQueue;
        int count = domain.FlushQueueCount;
        while (!queue.IsEmpty && queue.Peek().Counter < domain.FlushFinished)
        {
            var entry = queue.Peek();
            queue = queue.Dequeue();
            count--;
            if (Dom(domainId).Occupied.TryGet(entry.Iova.Start, out var held) && held.Last == entry.Iova.Last && held.Value == AllocationOwner.FlushQueue)
                RemoveAllocation(domainId, entry.Iova);
        }
        if (count != domain.FlushQueueCount) SetFlushQueue(domainId, queue, count);
        if (count == 0 && Dom(domainId).TimerDeadline is not null)
            SetTimer(domainId, null);
    }

    /// <summary>flush_iotlb_all with the start/finish counters, then free what it covered.</summary>
    private void FlushDomain(int domainId)
    {
        UpdateDomainSettings(domainId, d => d with { FlushStarted = d.FlushStarted + 1 });
        InvalidateIotlb(domainId, null);
        UpdateDomainSettings(domainId, d => d with { FlushFinished = d.FlushFinished + 1 });
        ReleaseCompletedFlushEntries(domainId);
    }

    private Outcome DoFlush(Flush op)
    {
        if (_state.Domain(op.Domain) is null) return Fail(DmaErrorKind.UnknownDomain, $"no domain {op.Domain}");
        FlushDomain(op.Domain);
        return Done.Instance;
    }

    private Outcome DoTick(Tick op)
    {
        if (op.Milliseconds > ulong.MaxValue - _state.NowMs)
            return Fail(DmaErrorKind.Overflow, $"time would pass 2^64 ms (now {_state.NowMs} ms, +{op.Milliseconds})");
        if (op.Milliseconds != 0) SetNow(_state.NowMs + op.Milliseconds);
        foreach (int id in _state.ArmedTimers.ToList())
            if (Dom(id).TimerDeadline <= _state.NowMs)
                FlushDomain(id);
        return Done.Instance;
    }
}
