using DmaVerify.Proofs.Z3;

namespace DmaVerify.Proofs.Obligations;

/// <summary>
/// iommu_pgsize (INV-14, INV-06): the constant-time bit rule equals the brute-force rule the
/// model uses — the largest size in the bitmap that is no larger than what remains and to which
/// both addresses are aligned (taking one page and choosing again is Linux's boundary rule).
/// Kernel: Optimized/PageTables/PageSizeRule.cs.
/// </summary>
internal static class PageSizeObligations
{
    /// <summary>The brute-force choice, unrolled over the 64 sizes: the highest qualifying bit wins.</summary>
    public static BvTerm BruteForce(ObligationScope s, BvTerm sizes, BvTerm iova, BvTerm pa, BvTerm remaining)
    {
        var choice = s.Num(0);
        for (int bit = 0; bit < 64; bit++)
        {
            ulong size = 1UL << bit;
            var qualifies = !(sizes & size).IsZero & (s.Num(size) <= remaining) & ((iova | pa) & (size - 1)).IsZero;
            choice = qualifies.Ite(s.Num(size), choice);
        }
        return choice;
    }

    public static IEnumerable<Obligation> All()
    {
        yield return new("PO-20", "INV-14", "page-size choice equals the brute-force rule (largest supported, aligned, fits)",
            ["PageSizeRule.Choose"], s =>
            {
                BvTerm sizes = s.Input("pageSizes", 64), iova = s.Input("iova", 64), pa = s.Input("pa", 64), remaining = s.Input("remaining", 64);
                return s.Bv("PageSizeRule.Choose", sizes, iova, pa, remaining) == BruteForce(s, sizes, iova, pa, remaining);
            });
    }
}
