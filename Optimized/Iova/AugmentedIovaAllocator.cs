namespace DmaVerify.Optimized.Iova;

/// <summary>
/// The optimized IOVA allocator: a red-black tree of occupied ranges keyed by their first PFN,
/// in which every node carries the free gap just below it and the largest gap (plain, and as
/// <see cref="IovaFit.FitCapacity"/>, the largest size-aligned request it holds) of its subtree.
/// An anchor node at PFN 2^64 − 1 sits above everything, so every gap lies below some node.
/// <para><b>Search, O(log n) worst case.</b> The highest allowed range at or below a limit L is
/// either in the one gap that straddles L (the gap below the lowest node with Lo &gt; L, clipped
/// at L, checked exactly), or in the full gap of the highest node with Lo ≤ L whose own gap fits.
/// That node is found by one walk down the boundary path (at a node with Lo ≤ L: remember the
/// node if its gap fits, else its left subtree if that subtree's maximum fits, and go right) plus
/// at most one descent into the remembered subtree guided by the maxima: ≤ 2 · height steps.
/// Alignment is decided exactly, not with the sufficient condition gap ≥ size + align − 1:
/// fitting a size-aligned request is monotone in its size (see FitCapacity), so "some gap in
/// this subtree holds s pages size-aligned" is exactly "subtree max capacity ≥ s". Insert and
/// erase are O(log n): the tree rebalances with O(1) rotations, each recomputing two nodes, and
/// the gap of the new/removed node's neighbour is refreshed along one path to the root.</para>
/// <para><b>Tree-only allocations are the model's default choice</b>: the highest fitting,
/// aligned range in [StartPfn, limit]. The range cache in front hands out cached ranges first.</para>
/// <para><b>Reservations</b> follow the model: a reservation that overlaps an allocated (or
/// cached — the caches are flushed first) range is refused; overlapping other reservations is
/// fine (only the uncovered parts get new nodes). Reserved nodes cannot be freed.</para>
/// </summary>
public sealed class AugmentedIovaAllocator : CachedIovaAllocator
{
    private readonly RbTree<GapAugment> _tree;
    private readonly IovaNode _anchor;

    public AugmentedIovaAllocator(ulong startPfn = 1, int granuleShift = 12, int cacheSlots = 0, int depotKeep = -1)
        : base(startPfn, granuleShift, cacheSlots, depotKeep)
    {
        _tree = new();
        _anchor = new(ulong.MaxValue, ulong.MaxValue, reserved: true);
        _tree.Insert(_anchor);
        GapAugment.Refresh(_anchor, StartPfn);
    }

    private AugmentedIovaAllocator(AugmentedIovaAllocator source) : base(source)
    {
        _tree = source._tree.Clone();
        _anchor = _tree.FindContaining(ulong.MaxValue)!;
    }

    private protected override CachedIovaAllocator CloneLocked() => new AugmentedIovaAllocator(this);

    private protected override ulong AllocLocked(ulong pages, ulong limitPfn, bool sizeAligned)
    {
        var (above, start) = FindLocked(pages, limitPfn, sizeAligned);
        return above is null ? 0 : Place(above, start, pages);
    }

    /// <summary>The highest allowed start at or below the limit and the node above its gap, or
    /// (null, 0). O(log n); O(1) when the fit is near the limit.</summary>
    private (IovaNode? Above, ulong Start) FindLocked(ulong pages, ulong limitPfn, bool sizeAligned)
    {
        if (Plant == OptimizedPlant.IovaLimitPastByOne && limitPfn < MaxPfn) limitPfn++;
        if (Plant == OptimizedPlant.IovaLimitOneShort && limitPfn > StartPfn) limitPfn--;
        // 1. The gap that straddles the limit: below the lowest node above it (the anchor at
        //    worst), clipped at the limit (that node's Lo − 1 is ≥ the limit).
        var above = FirstAbove(limitPfn);
        if (above.GapSize != 0)
        {
            ulong gapLo = above.Lo - above.GapSize;
            if (IovaFit.FitsBelow(gapLo, limitPfn, pages, sizeAligned))
                return (above, IovaFit.HighestStartBelow(limitPfn, pages, sizeAligned));
        }
        // 2. The highest whole gap below the limit that fits: a finger search from `above`.
        var node = HighestFittingGapBefore(above, pages, sizeAligned);
        if (node is null) return (null, 0);
        return (node, IovaFit.HighestStartBelow(node.Lo - 1, pages, sizeAligned));
    }

    /// <summary>The lowest node with Lo &gt; <paramref name="limitPfn"/> (the anchor at worst).
    /// A limit at or above the highest allocation (the usual 48-bit one) is answered from the
    /// anchor's predecessor in O(1) instead of a walk from the root.</summary>
    private IovaNode FirstAbove(ulong limitPfn)
    {
        var top = RbTree<GapAugment>.Prev(_anchor);
        if (top is null || top.Lo <= limitPfn) return _anchor;
        return _tree.LowerBound(limitPfn + 1)!;
    }

    /// <summary>Where a tree allocation would go (the highest fit at or below the limit), without
    /// taking it; 0 when nothing fits. O(log n).</summary>
    public ulong FindHighest(ulong pages, ulong limitPfn, bool sizeAligned)
    {
        if (pages == 0 || limitPfn < StartPfn) return 0;
        if (limitPfn > MaxPfn) limitPfn = MaxPfn;
        if (pages - 1 > limitPfn - StartPfn) return 0;
        lock (TreeLock) return FindLocked(pages, limitPfn, sizeAligned).Start;
    }

    /// <summary>Takes exactly [pfn, pfn + pages − 1] when all of it is free and inside the space
    /// (a freeable allocation, as Alloc makes). O(log n).</summary>
    public bool TryClaim(ulong pfn, ulong pages)
    {
        if (pages == 0 || pfn < StartPfn || pfn > MaxPfn || pages - 1 > MaxPfn - pfn) return false;
        ulong last = pfn + (pages - 1);
        lock (TreeLock)
        {
            var above = _tree.FirstEndingAtOrAbove(pfn)!; // the anchor at worst
            if (above.Lo <= last) return false;           // something occupies part of the range
            if (above.Lo - above.GapSize > pfn) return false;
            Place(above, pfn, pages);
            return true;
        }
    }

    /// <summary>The free gaps, highest first, as (lo, hi) PFN pairs (a snapshot; O(n)).</summary>
    public IReadOnlyList<(ulong Lo, ulong Hi)> GapsDescending()
    {
        var gaps = new List<(ulong, ulong)>();
        lock (TreeLock)
            for (var n = _tree.Last(); n is not null; n = RbTree<GapAugment>.Prev(n))
                if (n.GapSize != 0) gaps.Add((n.Lo - n.GapSize, n.Lo - 1));
        return gaps;
    }

    /// <summary>The highest node before <paramref name="above"/> (in address order) whose own gap
    /// holds the request: its left subtree first, then each ancestor reached from the right
    /// (itself, then its left subtree), descending into the first subtree whose maximum fits.
    /// At most one climb and one descent, ≤ 2 · height steps, and few when the fit lies just
    /// below (the common case, where Linux's cached node helps it too).</summary>
    private IovaNode? HighestFittingGapBefore(IovaNode above, ulong pages, bool sizeAligned)
    {
        int steps = 1;
        IovaNode? found = null;
        if (above.Left is { } left && Sub(left, sizeAligned) >= pages) found = HighestIn(left, pages, sizeAligned, ref steps);
        else
            for (var n = above; n.Parent is { } p; n = p, steps++)
            {
                if (n != p.Right) continue;
                if (Own(p, sizeAligned) >= pages) { found = p; break; }
                if (p.Left is { } l && Sub(l, sizeAligned) >= pages) { found = HighestIn(l, pages, sizeAligned, ref steps); break; }
            }
        LastSearchSteps = steps;
        return found;
    }

    /// <summary>The highest node of a subtree whose own gap fits, given that one does.</summary>
    private static IovaNode HighestIn(IovaNode n, ulong pages, bool sizeAligned, ref int steps)
    {
        for (; ; steps++)
        {
            if (n.Right is { } r && Sub(r, sizeAligned) >= pages) n = r;
            else if (Own(n, sizeAligned) >= pages) return n;
            else n = n.Left!; // the subtree maximum guarantees a fit further left
        }
    }

    /// <summary>Nodes the last gap search visited (tests check the O(log n) bound).</summary>
    internal int LastSearchSteps { get; private set; }

    private static ulong Own(IovaNode n, bool sizeAligned) => sizeAligned ? n.GapCap : n.GapSize;
    private static ulong Sub(IovaNode n, bool sizeAligned) => sizeAligned ? n.SubCap : n.SubGap;

    /// <summary>Links [start, start + pages − 1] into the gap below <paramref name="above"/>.</summary>
    private ulong Place(IovaNode above, ulong start, ulong pages)
    {
        // The gap below `above` was [gapLo, above.Lo − 1]; the new node splits it in two.
        ulong gapLo = above.Lo - above.GapSize, last = start + (pages - 1);
        var node = NewNode(start, last);
        bool linked = _tree.Insert(node, above);
        System.Diagnostics.Debug.Assert(linked, "a free gap never holds a node's key");
        GapAugment.SetGap(node, gapLo, start - 1);
        GapAugment.SetGap(above, last + 1, above.Lo - 1);
        return start;
    }

    private protected override bool FreeLocked(ulong pfn)
    {
        var node = _tree.FindContaining(pfn);
        if (node is null || node.Reserved) return false;
        var next = RbTree<GapAugment>.Next(node)!; // the anchor at worst
        ulong mergedLo = node.Lo - node.GapSize;       // the gap below node, node, and the gap below next join
        _tree.Remove(node);
        GapAugment.SetGap(next, mergedLo, next.Lo - 1);
        Recycle(node);
        return true;
    }

    /// <summary>Marks [pfnLo, pfnHi] reserved. Flushes the caches first (a cached range is free
    /// to the user and must not block, nor be handed out inside, a reservation). Refused when the
    /// range is inverted, past <see cref="IIovaAllocator.MaxPfn"/>, or overlaps an allocation.
    /// O((k + 1) log n) for k overlapped reservations.</summary>
    public override bool Reserve(ulong pfnLo, ulong pfnHi)
    {
        if (pfnLo > pfnHi || pfnHi > MaxPfn) return false;
        FlushCaches();
        lock (TreeLock)
        {
            var first = _tree.FirstEndingAtOrAbove(pfnLo)!; // the anchor at worst
            for (var n = first; n.Lo <= pfnHi; n = RbTree<GapAugment>.Next(n)!)
                if (!n.Reserved) return false;
            ulong cur = pfnLo;
            for (var n = first; ;)
            {
                if (n.Lo > cur)
                {
                    ulong holeHi = n.Lo - 1 < pfnHi ? n.Lo - 1 : pfnHi;
                    var node = NewNode(cur, holeHi, reserved: true);
                    bool linked = _tree.Insert(node, n);
                    System.Diagnostics.Debug.Assert(linked, "a hole never holds a node's key");
                    GapAugment.Refresh(node, StartPfn);
                    GapAugment.Refresh(n, StartPfn);
                    if (holeHi == pfnHi) return true;
                    cur = holeHi + 1; // = n.Lo: n covers it next round
                }
                else
                {
                    if (n.Hi >= pfnHi) return true;
                    cur = n.Hi + 1;
                    n = RbTree<GapAugment>.Next(n)!;
                }
            }
        }
    }

    private protected override bool ContainsLocked(ulong pfn) => _tree.FindContaining(pfn) is not null;
    private protected override int CountLocked() => _tree.Count - 1;

    private protected override void CollectLocked(List<IovaRange> into)
    {
        for (var n = _tree.First(); n is not null && n != _anchor; n = RbTree<GapAugment>.Next(n))
            into.Add(new IovaRange(n.Lo, n.Hi, n.Reserved));
    }

    /// <summary>Test hook: the red-black properties and every gap annotation, recomputed from
    /// scratch (O(n)). Null when everything holds.</summary>
    internal string? CheckTree()
    {
        lock (TreeLock) return _tree.Validate() ?? GapAugment.Verify(_tree, StartPfn);
    }

    /// <summary>Test hook: the tree's height.</summary>
    internal int Height()
    {
        lock (TreeLock) return HeightOf(_tree.Root);
        static int HeightOf(IovaNode? n) => n is null ? 0 : 1 + Math.Max(HeightOf(n.Left), HeightOf(n.Right));
    }
}
