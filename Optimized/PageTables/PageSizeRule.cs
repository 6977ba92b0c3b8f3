namespace DmaVerify.Optimized.PageTables;

/// <summary>
/// iommu_pgsize as a constant-time bit computation (docs/linux-facts.md#page-size-choice): the
/// largest size in the bitmap that is no larger than what remains and to which both the IOVA and
/// the physical address are aligned. Taking one page and choosing again is the same as Linux's
/// (pgsize, count) runs. The reference model states the same rule as a brute-force search;
/// refinement and the Z3 proofs hold the two equal.
/// </summary>
public static class PageSizeRule
{
    /// <summary>The page size for the next leaf, or 0 when none fits.</summary>
    public static ulong Choose(ulong pageSizes, ulong iova, ulong pa, ulong remaining)
    {
        if (remaining == 0) return 0;
        // Sizes up to the top bit of what remains: (top << 1) - 1 wraps to all ones at bit 63.
        ulong fits = (Bits.HighestSetBit(remaining) << 1) - 1;
        ulong address = iova | pa;
        // Sizes up to the alignment of both addresses; address 0 is aligned to everything.
        ulong aligned = address == 0 ? ulong.MaxValue : (Bits.LowestSetBit(address) << 1) - 1;
        return Bits.HighestSetBit(pageSizes & fits & aligned);
    }
}
