using DmaVerify.Optimized.Iova;

namespace DmaVerify.Native;

/// <summary>
/// What every plugged allocator instance shares, in this process or behind a host process: the
/// <see cref="IIovaAllocator"/> argument rules (<see cref="IovaArguments"/>) are applied before a
/// call leaves, so foreign code only sees the well-formed calls its header promises, and the
/// questions the C ABI has no call for (Contains, Count, CachedCount, Ranges) are answered from
/// its own view of the space (dv_iova_ranges; empty when the library has none). FreeFast answers
/// true once its arguments pass: free_iova_fast returns nothing.
/// </summary>
public abstract class ForeignIovaAllocator : IIovaAllocator, IAllocatorView
{
    protected ForeignIovaAllocator(ulong startPfn, int granuleShift)
    {
        MaxPfn = IovaArguments.MaxPfn(granuleShift);
        StartPfn = IovaArguments.StartPfn(startPfn, MaxPfn);
    }

    public ulong StartPfn { get; }
    public ulong MaxPfn { get; }
    public abstract bool HasOwnView { get; }

    /// <summary>The instance was destroyed: every call answers 0 / false.</summary>
    protected abstract bool Gone { get; }

    protected abstract ulong CallAllocFast(ulong pages, ulong limitPfn, bool flush);
    protected abstract void CallFreeFast(ulong pfn, ulong pages);
    protected abstract ulong CallAlloc(ulong pages, ulong limitPfn, bool sizeAligned);
    protected abstract bool CallFree(ulong pfn);
    protected abstract bool CallReserve(ulong pfnLo, ulong pfnHi);
    protected abstract void CallFlushCaches();
    protected abstract IReadOnlyList<AllocatorRange> CallRanges();

    public ulong AllocFast(ulong pages, ulong limitPfn, bool flushCachesOnFailure)
    {
        ulong size = IovaFit.FastSize(pages);
        if (Gone || size == 0 || !IovaArguments.CanRequest(size, ref limitPfn, StartPfn, MaxPfn)) return 0;
        return CallAllocFast(pages, limitPfn, flushCachesOnFailure);
    }

    public bool FreeFast(ulong pfn, ulong pages)
    {
        ulong size = IovaFit.FastSize(pages);
        if (Gone || size == 0 || !IovaArguments.IsRange(pfn, size, StartPfn, MaxPfn)) return false;
        CallFreeFast(pfn, pages);
        return true;
    }

    public ulong Alloc(ulong pages, ulong limitPfn, bool sizeAligned)
    {
        if (Gone || !IovaArguments.CanRequest(pages, ref limitPfn, StartPfn, MaxPfn)) return 0;
        if (sizeAligned && IovaFit.RoundUpPow2(pages) == 0) return 0;
        return CallAlloc(pages, limitPfn, sizeAligned);
    }

    public bool Free(ulong pfn) => !Gone && pfn != 0 && pfn <= MaxPfn && CallFree(pfn);

    public bool Reserve(ulong pfnLo, ulong pfnHi) => !Gone && pfnLo <= pfnHi && pfnHi <= MaxPfn && CallReserve(pfnLo, pfnHi);

    public void FlushCaches()
    {
        if (!Gone) CallFlushCaches();
    }

    public IReadOnlyList<AllocatorRange> OwnRanges() => Gone || !HasOwnView ? [] : CallRanges();

    public bool Contains(ulong pfn) => OwnRanges().Any(r => r.PfnLo <= pfn && pfn <= r.PfnHi);
    public int Count => OwnRanges().Count;
    public int CachedCount => OwnRanges().Count(r => r.Kind == AllocatorRangeKind.Cached);

    public IReadOnlyList<IovaRange> Ranges() =>
        [.. OwnRanges().Select(r => new IovaRange(r.PfnLo, r.PfnHi, r.Kind == AllocatorRangeKind.Reserved))];
}
