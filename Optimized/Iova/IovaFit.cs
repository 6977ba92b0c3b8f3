namespace DmaVerify.Optimized.Iova;

/// <summary>
/// Fit and alignment arithmetic of the IOVA allocators, in PFN units (granules). Every method
/// is static, pure and total: integer arithmetic, comparisons, branches and bounded loops only
/// (no allocation, LINQ, exceptions or BCL calls), so that Proofs/ can lift them from IL.
/// </summary>
public static class IovaFit
{
    /// <summary>dma-iommu / alloc_iova_fast round requests below this many granules up to a
    /// power of two (2^(IOVA_RANGE_CACHE_MAX_SIZE − 1)).</summary>
    public const ulong RoundUpBelow = 32;

    /// <summary>floor(log2 v) for v ≥ 1; 0 for v = 0. Six compare-and-shift steps.</summary>
    public static int FloorLog2(ulong v)
    {
        int r = 0;
        if (v >= 1UL << 32) { v >>= 32; r += 32; }
        if (v >= 1UL << 16) { v >>= 16; r += 16; }
        if (v >= 1UL << 8) { v >>= 8; r += 8; }
        if (v >= 1UL << 4) { v >>= 4; r += 4; }
        if (v >= 1UL << 2) { v >>= 2; r += 2; }
        if (v >= 1UL << 1) { r += 1; }
        return r;
    }

    /// <summary>Linux's order_base_2: ceil(log2 v), with 0 for v ≤ 1. Equals fls_long(v − 1).</summary>
    public static int OrderBase2(ulong v) => v <= 1 ? 0 : FloorLog2(v - 1) + 1;

    /// <summary>roundup_pow_of_two: the smallest power of two ≥ v (1 for v ≤ 1); 0 when v is above
    /// 2^63, where no 64-bit power of two is large enough.</summary>
    public static ulong RoundUpPow2(ulong v)
    {
        if (v <= 1) return 1;
        if (v > 1UL << 63) return 0;
        return 1UL << OrderBase2(v);
    }

    /// <summary>The size alloc_iova_fast actually allocates for a request of <paramref name="pages"/>:
    /// rounded up to a power of two below 32 granules, unchanged from 32 on; 0 for 0 (invalid).</summary>
    public static ulong FastSize(ulong pages) => pages == 0 ? 0 : pages < RoundUpBelow ? RoundUpPow2(pages) : pages;

    /// <summary>Rounds <paramref name="pfn"/> down to the alignment a size-aligned range of
    /// <paramref name="pages"/> needs, roundup_pow_of_two(pages) (Linux's <c>pfn &amp; align_mask</c>).</summary>
    public static ulong AlignDownForSize(ulong pfn, ulong pages) => pfn & ~(RoundUpPow2(pages) - 1);

    /// <summary>The highest start of a range of <paramref name="pages"/> that ends at or below
    /// <paramref name="gapHi"/>, aligned to roundup_pow_of_two(pages) when
    /// <paramref name="sizeAligned"/>. Precondition: 1 ≤ pages ≤ gapHi + 1 (then nothing wraps).</summary>
    public static ulong HighestStartBelow(ulong gapHi, ulong pages, bool sizeAligned)
    {
        ulong top = gapHi - (pages - 1);
        return sizeAligned ? AlignDownForSize(top, pages) : top;
    }

    /// <summary>Whether a range of <paramref name="pages"/> (size-aligned or not) fits in the free
    /// gap [gapLo, gapHi] (inclusive). Overflow-free for every input.</summary>
    public static bool FitsBelow(ulong gapLo, ulong gapHi, ulong pages, bool sizeAligned)
    {
        if (pages == 0 || gapHi < gapLo) return false;
        if (pages - 1 > gapHi - gapLo) return false;
        return HighestStartBelow(gapHi, pages, sizeAligned) >= gapLo;
    }

    /// <summary>
    /// The largest size s such that a size-aligned range of s pages (start aligned to
    /// roundup_pow_of_two(s)) fits in the free gap [lo, hi]; 0 for an empty gap.
    /// Exactness: for alignment 2^k the best start is the first multiple m_k of 2^k in the gap, and
    /// a range of min(hi − m_k + 1, 2^k) pages there is size-aligned; the true maximum s* (alignment
    /// 2^k*) is at most the candidate for k*. Fitting is monotone in s (a gap that holds s holds
    /// every smaller size-aligned request: same alignment when the order is equal, and a smaller
    /// order needs fewer than s pages at the same start), so "gap fits s" ⇔ FitCapacity ≥ s.
    /// Once 2^k has no multiple in the gap neither has any larger power: the loop stops (≤ 64 rounds).
    /// </summary>
    public static ulong FitCapacity(ulong lo, ulong hi)
    {
        if (hi < lo) return 0;
        ulong best = 0;
        for (int k = 0; k < 64; k++)
        {
            ulong mask = (1UL << k) - 1;
            ulong rem = lo & mask;
            ulong up = rem == 0 ? 0 : mask + 1 - rem;
            if (up > hi - lo) break; // no multiple of 2^k in [lo, hi] (covers the wrap too)
            ulong m = lo + up;
            ulong tailMinus1 = hi - m;
            ulong cand = (tailMinus1 < mask ? tailMinus1 : mask) + 1; // min(tail, 2^k), no overflow
            if (cand > best) best = cand;
        }
        return best;
    }

    /// <summary>Plain free pages of the gap [lo, hi] capped at 2^64 − 1 (an all-space gap).</summary>
    public static ulong GapSize(ulong lo, ulong hi)
    {
        if (hi < lo) return 0;
        ulong d = hi - lo;
        return d == ulong.MaxValue ? d : d + 1;
    }

    /// <summary>Linux's align_mask for alloc_iova: ~0 shifted left by fls_long(size − 1) when
    /// size-aligned, else ~0.</summary>
    public static ulong LinuxAlignMask(ulong size, bool sizeAligned)
    {
        if (!sizeAligned) return ulong.MaxValue;
        int order = OrderBase2(size);
        return order >= 64 ? 0 : ulong.MaxValue << order;
    }

    /// <summary>One step of Linux's top-down walk: the candidate start <c>(high − size) &amp; mask</c>
    /// below an exclusive bound <paramref name="high"/>, computed with wrap-around exactly as C
    /// does; the caller detects the wrap by <c>high &lt; size</c>.</summary>
    public static ulong LinuxCandidate(ulong high, ulong size, ulong alignMask) => unchecked(high - size) & alignMask;
}
