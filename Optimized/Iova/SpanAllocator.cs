namespace DmaVerify.Optimized.Iova;

/// <summary>
/// Spans of a fixed window in byte addresses, for the bitmap-style spaces: the GART aperture,
/// a TCE window (unit = the IOMMU granule) and the swiotlb pool (unit = a 2 KiB slot). A request
/// is a multiple of the unit, aligned to a power-of-two multiple of it, at or below a limit, and
/// must not cross a segment boundary. Backed by <see cref="AugmentedIovaAllocator"/> in
/// unaligned mode (the window's PFNs, the space above the window reserved), so the search is
/// O(log n): the highest gap that holds <c>pages + align − 1</c> units holds an aligned span,
/// and a span that would cross a boundary is retried below that boundary (one O(log n) step per
/// boundary crossed). Only when no gap is that large does an aligned request fall back to a
/// scan of the gaps (O(n)), which keeps the search complete for a fragmented window; unaligned
/// (slot or granule sized) requests never scan. The model accepts any allowed span (its own
/// default is the lowest); this returns the highest.
/// </summary>
public sealed class SpanAllocator
{
    private readonly AugmentedIovaAllocator _tree;
    private readonly int _shift;
    private readonly ulong _lastPfn;

    /// <param name="first">First byte of the window (rounded up to the unit; must leave PFN ≥ 1).</param>
    /// <param name="last">Last byte of the window (inclusive).</param>
    /// <param name="unitShift">log2 of the unit (granule or slot).</param>
    public SpanAllocator(ulong first, ulong last, int unitShift)
    {
        _shift = unitShift;
        ulong unit = 1UL << unitShift;
        ulong firstPfn = (first >> unitShift) + ((first & (unit - 1)) != 0 ? 1UL : 0UL);
        _lastPfn = last == ulong.MaxValue ? ulong.MaxValue >> unitShift : ((last + 1) >> unitShift) - 1;
        if (firstPfn == 0 || _lastPfn < firstPfn) throw new ArgumentOutOfRangeException(nameof(first), "the window holds no whole unit above address 0");
        _tree = new AugmentedIovaAllocator(firstPfn, unitShift, cacheSlots: 1);
        if (_lastPfn < _tree.MaxPfn) _tree.Reserve(_lastPfn + 1, _tree.MaxPfn);
    }

    private SpanAllocator(SpanAllocator source)
    {
        _shift = source._shift;
        _lastPfn = source._lastPfn;
        _tree = (AugmentedIovaAllocator)source._tree.Clone();
    }

    /// <summary>An independent allocator with the same spans taken.</summary>
    public SpanAllocator Clone() => new(this);

    public int Count => _tree.Count - (_lastPfn < _tree.MaxPfn ? 1 : 0);

    /// <summary>Finds (and with <paramref name="claim"/> takes) a span of <paramref name="bytes"/>
    /// aligned to <paramref name="alignment"/> (both multiples of the unit, alignment a power of
    /// two) whose last byte is at or below <paramref name="limit"/> and which does not cross a
    /// <paramref name="boundaryMask"/> boundary (all-ones: none). Null when none exists.</summary>
    public ulong? Alloc(ulong bytes, ulong alignment, ulong limit, ulong boundaryMask, bool claim = true)
    {
        ulong unit = 1UL << _shift;
        if (bytes == 0 || (bytes & (unit - 1)) != 0 || alignment < unit || (alignment & (alignment - 1)) != 0) return null;
        if (boundaryMask != ulong.MaxValue && bytes - 1 > boundaryMask) return null; // always crosses
        ulong pages = bytes >> _shift, align = alignment >> _shift;
        if (limit != ulong.MaxValue && (limit + 1) >> _shift == 0) return null;
        ulong limitPfn = Math.Min(limit == ulong.MaxValue ? ulong.MaxValue >> _shift : ((limit + 1) >> _shift) - 1, _lastPfn);

        ulong? start = align == 1 || pages > ulong.MaxValue - (align - 1)
            ? FindBelow(pages, 1, limitPfn, boundaryMask)
            : FindBelow(pages + (align - 1), align, limitPfn, boundaryMask, pages) ?? ScanGaps(pages, align, limitPfn, boundaryMask);
        if (start is not ulong pfn) return null;
        if (claim && !_tree.TryClaim(pfn, pages)) throw new InvalidOperationException($"span allocator: the free span at PFN {pfn:X} was not free");
        return pfn << _shift;
    }

    /// <summary>The highest start of a <paramref name="pages"/>-unit span aligned to
    /// <paramref name="align"/> units, searching gaps that hold <paramref name="search"/> units.</summary>
    private ulong? FindBelow(ulong search, ulong align, ulong limitPfn, ulong boundaryMask, ulong? pagesIfPadded = null)
    {
        ulong pages = pagesIfPadded ?? search;
        while (true)
        {
            ulong s = _tree.FindHighest(search, limitPfn, sizeAligned: false);
            if (s == 0) return null;
            // The gap holds [s, s + search − 1]; the highest aligned span in it starts here.
            ulong pfn = (s + (align - 1)) & ~(align - 1);
            if (!Crosses(pfn, pages, boundaryMask, out ulong boundaryPfn)) return pfn;
            if (boundaryPfn == 0) return null;
            limitPfn = boundaryPfn - 1; // every span above starts below the boundary and crosses it
        }
    }

    /// <summary>Complete search over every gap, highest first, for aligned requests that no gap
    /// holds with the alignment slack. O(n).</summary>
    private ulong? ScanGaps(ulong pages, ulong align, ulong limitPfn, ulong boundaryMask)
    {
        foreach (var (lo, gapHi) in _tree.GapsDescending())
        {
            if (lo > limitPfn) continue;
            ulong hi = Math.Min(gapHi, limitPfn);
            while (hi >= lo && hi - lo >= pages - 1)
            {
                ulong pfn = (hi - (pages - 1)) & ~(align - 1);
                if (pfn < lo) break;
                if (!Crosses(pfn, pages, boundaryMask, out ulong boundaryPfn)) return pfn;
                if (boundaryPfn == 0) return null;
                hi = boundaryPfn - 1;
            }
        }
        return null;
    }

    /// <summary>Whether the span crosses a boundary; if so, the PFN of the boundary it crosses
    /// last (the first unit of the block holding its last byte).</summary>
    private bool Crosses(ulong pfn, ulong pages, ulong boundaryMask, out ulong boundaryPfn)
    {
        boundaryPfn = 0;
        if (boundaryMask == ulong.MaxValue) return false;
        ulong first = pfn << _shift, last = first + ((pages << _shift) - 1);
        if ((first & ~boundaryMask) == (last & ~boundaryMask)) return false;
        boundaryPfn = (last & ~boundaryMask) >> _shift;
        return true;
    }

    /// <summary>Gives back the span starting at <paramref name="start"/>.</summary>
    public bool Free(ulong start) => _tree.Free(start >> _shift);

    /// <summary>Marks [first, last] (bytes) as never allocatable.</summary>
    public bool Reserve(ulong first, ulong last) => _tree.Reserve(first >> _shift, Math.Min(last >> _shift, _lastPfn));
}
