namespace DmaVerify.Optimized.Iova;

/// <summary>An occupied range of PFNs as the tree holds it (inclusive), for tests and diagnostics.
/// <see cref="Reserved"/> marks nodes created by <see cref="IIovaAllocator.Reserve"/>.</summary>
public readonly record struct IovaRange(ulong PfnLo, ulong PfnHi, bool Reserved)
{
    public ulong Pages => PfnHi - PfnLo + 1;
    public override string ToString() => $"[{PfnLo:X}..{PfnHi:X}]{(Reserved ? " reserved" : "")}";
}

/// <summary>
/// An IOVA allocator over one IOVA space, in PFN units (granules). PFN 0 is never handed out:
/// 0 is the failure value, and <see cref="StartPfn"/> is at least 1. No operation throws on bad
/// arguments: page count 0, a limit below <see cref="StartPfn"/>, or a range past
/// <see cref="MaxPfn"/> gives 0 / false. Limits above <see cref="MaxPfn"/> are clipped to it.
/// Safe for concurrent use from several threads.
/// </summary>
public interface IIovaAllocator
{
    /// <summary>Lowest allocatable PFN (dma-iommu's base_pfn, ≥ 1).</summary>
    ulong StartPfn { get; }

    /// <summary>Highest PFN of the space: <c>2^64−1 &gt;&gt; granule shift</c> (Linux's
    /// reserve_iova range check), capped at 2^64 − 2.</summary>
    ulong MaxPfn { get; }

    /// <summary>alloc_iova_fast: rounds <paramref name="pages"/> below 32 up to a power of two,
    /// size-aligns the range (start aligned to the power-of-two round-up of the size), tries the
    /// range cache, then the tree; on failure, if <paramref name="flushCachesOnFailure"/>, returns
    /// every cached range to the tree and retries once. Returns the first PFN, or 0.</summary>
    ulong AllocFast(ulong pages, ulong limitPfn, bool flushCachesOnFailure);

    /// <summary>free_iova_fast: caches a range <see cref="AllocFast"/> returned (pass the same
    /// page count as the request), or frees it into the tree when its size class is not cached.
    /// Contract as in Linux: the range must be a live AllocFast result; only argument-level
    /// checks are made (pages 0, overflow → false).</summary>
    bool FreeFast(ulong pfn, ulong pages);

    /// <summary>alloc_iova: tree only, no rounding, no caches. With
    /// <paramref name="sizeAligned"/> the start is aligned to roundup_pow_of_two(pages).</summary>
    ulong Alloc(ulong pages, ulong limitPfn, bool sizeAligned);

    /// <summary>free_iova: frees the tree range containing <paramref name="pfn"/>. False when no
    /// freeable range contains it.</summary>
    bool Free(ulong pfn);

    /// <summary>reserve_iova: marks [pfnLo, pfnHi] occupied. False for an inverted range or one
    /// past <see cref="MaxPfn"/>; each allocator documents how it treats overlaps.</summary>
    bool Reserve(ulong pfnLo, ulong pfnHi);

    /// <summary>Returns every cached range to the tree.</summary>
    void FlushCaches();

    /// <summary>Whether a tree range (allocated, cached or reserved) contains <paramref name="pfn"/>.</summary>
    bool Contains(ulong pfn);

    /// <summary>Tree nodes, not counting an anchor: allocated, cached and reserved ranges.</summary>
    int Count { get; }

    /// <summary>Ranges currently in the caches (a snapshot).</summary>
    int CachedCount { get; }

    /// <summary>The tree's ranges in address order (a snapshot, anchor excluded).</summary>
    IReadOnlyList<IovaRange> Ranges();
}

/// <summary>
/// An allocator that can copy itself, so a system holding it can be snapshotted and restored
/// in O(size of the allocator). Optional: a system restores an allocator without this
/// capability by building a fresh one from its factory and replaying the calls made since
/// (see <c>OptimizedSystem.Snapshot</c>).
/// </summary>
public interface ICloneableIovaAllocator : IIovaAllocator
{
    /// <summary>An independent allocator in this one's exact state, caches included: every
    /// later call sequence gives the same results on both.</summary>
    IIovaAllocator Clone();
}
