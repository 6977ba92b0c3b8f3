namespace DmaVerify.Optimized.Iova;

/// <summary>
/// Linux's IOVA allocator (drivers/iommu/iova.c, rbtree version) rebuilt from its description
/// (docs/linux-facts.md#iova-allocator), as the benchmark peer and a second implementation to
/// check: a red-black tree with an anchor node at PFN 2^64 − 1, <c>cached_node</c> /
/// <c>cached32_node</c>, the two-pass top-down walk, the <c>max32_alloc_size</c> fast-fail, cache
/// maintenance on free, reserve_iova's linear merge scan, and the same magazine/depot range cache
/// in front (alloc_iova_fast). Deliberately faithful, including where Linux is incomplete or loose.
///
/// <para><b>Where it fails although the specification says a range exists</b> (INV-11):</para>
/// <list type="number">
/// <item><b>max32_alloc_size ignores the limit.</b> Any failed tree allocation sets it to the failed
/// size, whatever the limit was. A failure under a low limit (say a 30-bit device, limit 1 GiB)
/// then makes every request of that size or larger with a limit ≤ 4 GiB fail at once, although
/// [1 GiB, 4 GiB) may be empty. It is reset only by freeing a tree node that starts below 4 GiB.</item>
/// <item><b>max32_alloc_size ignores alignment.</b> A failed size-aligned request of s pages
/// (alignment roundup_pow_of_two(s)) makes a later unaligned tree request (Alloc with sizeAligned
/// false) of s pages below 4 GiB fast-fail although an unaligned hole of s pages exists.</item>
/// <item><b>It is set after failures above 4 GiB too</b> (the notes: "unconditionally"). For
/// size-aligned requests this is harmless on its own — a size that fails below a limit above 4 GiB
/// fails below 4 GiB as well, and fitting is monotone in the size — but it poisons the 32-bit
/// window exactly as in items 1 and 2 (e.g. an aligned failure above 4 GiB, then an unaligned
/// 32-bit request).</item>
/// <item><b>Without a cache flush</b> (flushCachesOnFailure false, as dma-iommu's 32-bit-first
/// attempt passes), ranges sitting in other size classes' magazines block the tree; the same holds
/// for the optimized allocator and is allowed by the specification, which counts completeness
/// after flushing caches.</item>
/// </list>
/// The two-pass walk itself is complete: the first pass covers [start, cached.Lo − 1] below the
/// limit, the second [cached.Hi + 1, limit], and each pass checks the highest aligned candidate in
/// every gap from the top down. The first pass starts at the cached node, not at the limit, so
/// the result is not always the highest fit (allowed).
///
/// <para><b>Where it does not follow the specification's reservation rule</b>: reserve_iova merges
/// a reservation into overlapping nodes, extending them downward, and never refuses an overlap.
/// Reserving over a live allocation therefore enlarges that allocation's node, and freeing the
/// allocation frees the reserved part with it; reserving over a cached range does the same once
/// the cached PFN is handed out and freed again. Reserved nodes can be freed by PFN. In Linux,
/// dma-iommu reserves only at domain initialisation, before any allocation, so none of this is
/// reachable there; the tests keep to that discipline (flush, then reserve only free space).</para>
/// <para>One guard differs from the C code: the walk retries at most once (Linux's test
/// <c>low_pfn == start_pfn</c> would loop forever if a cached node ever ended at start − 1, which
/// the cache rules never produce).</para>
/// </summary>
public sealed class LinuxStyleIovaAllocator : CachedIovaAllocator
{
    private readonly RbTree<NoAugment> _tree;
    private readonly IovaNode _anchor;
    private IovaNode _cachedNode;
    private IovaNode _cached32Node;
    private ulong _max32AllocSize;

    /// <summary>dma_32bit_pfn: the first PFN at or above 4 GiB.</summary>
    public ulong Dma32BitPfn { get; }

    public LinuxStyleIovaAllocator(ulong startPfn = 1, int granuleShift = 12, int cacheSlots = 0, int depotKeep = -1)
        : base(startPfn, granuleShift, cacheSlots, depotKeep)
    {
        Dma32BitPfn = 1UL << (32 - granuleShift);
        _max32AllocSize = Dma32BitPfn;
        _tree = new();
        _anchor = new(ulong.MaxValue, ulong.MaxValue);
        _tree.Insert(_anchor);
        _cachedNode = _cached32Node = _anchor;
    }

    private LinuxStyleIovaAllocator(LinuxStyleIovaAllocator source) : base(source)
    {
        Dma32BitPfn = source.Dma32BitPfn;
        _max32AllocSize = source._max32AllocSize;
        _tree = source._tree.Clone();
        _anchor = _tree.FindContaining(ulong.MaxValue)!;
        // The cached nodes are tree nodes; a node is found again by its first PFN.
        _cachedNode = _tree.FindContaining(source._cachedNode.Lo)!;
        _cached32Node = _tree.FindContaining(source._cached32Node.Lo)!;
    }

    private protected override CachedIovaAllocator CloneLocked() => new LinuxStyleIovaAllocator(this);

    /// <summary>The current max32_alloc_size hint (tests).</summary>
    internal ulong Max32AllocSize { get { lock (TreeLock) return _max32AllocSize; } }

    /// <summary>How a tree allocation ended.</summary>
    public enum Outcome { None, Allocated, Max32FastFail, WalkFailed }

    /// <summary>How the calling thread's most recent tree allocation (on any LinuxStyle
    /// allocator) ended; a DMA layer reads it right after a failed call to attribute the failure.
    /// Per thread, so concurrent callers do not see each other's outcomes.</summary>
    public Outcome LastOutcome { get => t_lastOutcome; private set => t_lastOutcome = value; }

    [ThreadStatic] private static Outcome t_lastOutcome;

    private protected override ulong AllocLocked(ulong pages, ulong limitPfn, bool sizeAligned) =>
        AllocRange(pages, limitPfn + (Plant == OptimizedPlant.LinuxLimitPastByOne && limitPfn < MaxPfn - 1 ? 2UL : 1UL), sizeAligned);

    /// <summary>__alloc_and_insert_iova_range with an exclusive limit.</summary>
    private ulong AllocRange(ulong size, ulong limitPfn, bool sizeAligned)
    {
        ulong alignMask = IovaFit.LinuxAlignMask(Plant == OptimizedPlant.LinuxAlignMaskHalved && size > 1 ? size >> 1 : size, sizeAligned);
        bool below4G = limitPfn <= Dma32BitPfn;
        if (below4G && size >= _max32AllocSize)
        {
            LastOutcome = Outcome.Max32FastFail; // known (or believed) not to fit below 4 GiB
            return 0;
        }
        IovaNode curr = below4G ? _cached32Node : _cachedNode;
        ulong retryPfn = curr.Hi;
        ulong high = limitPfn, low = StartPfn, newPfn;
        IovaNode prev;
        for (bool firstPass = true; ; firstPass = false)
        {
            IovaNode? c = curr;
            do
            {
                if (c.Lo < high) high = c.Lo;
                newPfn = IovaFit.LinuxCandidate(high, size, alignMask);
                prev = c;
                c = RbTree<NoAugment>.Prev(c);
            } while (c is not null && newPfn <= c.Hi && newPfn >= low);

            if (high >= size && newPfn >= low) break;
            if (firstPass && retryPfn < limitPfn)
            {
                // Second pass: the window above the cached node.
                high = limitPfn;
                low = retryPfn + 1;
                curr = FindLimit(limitPfn);
                continue;
            }
            _max32AllocSize = size;
            LastOutcome = Outcome.WalkFailed;
            return 0;
        }
        var node = NewNode(newPfn, newPfn + (size - 1));
        _tree.Insert(node, prev);
        if (node.Hi < Dma32BitPfn) _cached32Node = node;
        else _cachedNode = node;
        LastOutcome = Outcome.Allocated;
        return newPfn;
    }

    /// <summary>iova_find_limit: the anchor above 4 GiB (the notes call it a crude heuristic),
    /// else the lowest node with Lo ≥ the exclusive limit.</summary>
    private IovaNode FindLimit(ulong limitPfn) =>
        limitPfn > Dma32BitPfn ? _anchor : _tree.LowerBound(limitPfn) ?? _anchor;

    private protected override bool FreeLocked(ulong pfn)
    {
        var node = _tree.FindContaining(pfn);
        if (node is null || node == _anchor) return false;
        CachedNodesOnDelete(node);
        _tree.Remove(node);
        Recycle(node);
        return true;
    }

    /// <summary>__cached_rbnode_delete_update.</summary>
    private void CachedNodesOnDelete(IovaNode free)
    {
        var c32 = _cached32Node;
        bool moves = Plant == OptimizedPlant.LinuxCached32KeptOnFree
            ? free.Hi < Dma32BitPfn && free.Lo > c32.Lo
            : free == c32 || (free.Hi < Dma32BitPfn && free.Lo >= c32.Lo);
        if (moves)
            _cached32Node = RbTree<NoAugment>.Next(free)!;
        if (free.Lo < Dma32BitPfn)
            _max32AllocSize = Dma32BitPfn;
        if (free.Lo >= _cachedNode.Lo)
            _cachedNode = RbTree<NoAugment>.Next(free)!;
    }

    /// <summary>reserve_iova: a linear scan from the lowest node merging the request into every
    /// overlapping node (extending it downward), then a new node for what remains. Never refuses
    /// an overlap; refuses only an inverted range or one past MaxPfn (Linux WARNs on the latter).
    /// O(n). Does not touch the caches or the cached nodes.</summary>
    public override bool Reserve(ulong pfnLo, ulong pfnHi)
    {
        if (pfnLo > pfnHi || (pfnLo | pfnHi) > MaxPfn) return false;
        lock (TreeLock)
        {
            bool overlap = false;
            for (var n = _tree.First(); n is not null; n = RbTree<NoAugment>.Next(n))
            {
                if (n.Lo <= pfnHi && pfnLo <= n.Hi)
                {
                    if (pfnLo < n.Lo) n.Lo = pfnLo;
                    if (pfnHi > n.Hi) pfnLo = n.Hi + 1;
                    if (pfnLo >= n.Lo && pfnHi <= n.Hi) return true;
                    overlap = true;
                }
                else if (overlap)
                {
                    break;
                }
            }
            _tree.Insert(NewNode(pfnLo, pfnHi, reserved: true));
            return true;
        }
    }

    private protected override bool ContainsLocked(ulong pfn) => _tree.FindContaining(pfn) is not null;
    private protected override int CountLocked() => _tree.Count - 1;

    private protected override void CollectLocked(List<IovaRange> into)
    {
        for (var n = _tree.First(); n is not null && n != _anchor; n = RbTree<NoAugment>.Next(n))
            into.Add(new IovaRange(n.Lo, n.Hi, n.Reserved));
    }

    /// <summary>Test hook: red-black properties and that the cached nodes are live tree nodes.</summary>
    internal string? CheckTree()
    {
        lock (TreeLock)
        {
            var e = _tree.Validate();
            if (e is not null) return e;
            if (_tree.FindContaining(_cachedNode.Lo) != _cachedNode) return $"cached_node {_cachedNode} is not in the tree";
            if (_tree.FindContaining(_cached32Node.Lo) != _cached32Node) return $"cached32_node {_cached32Node} is not in the tree";
            return null;
        }
    }
}
