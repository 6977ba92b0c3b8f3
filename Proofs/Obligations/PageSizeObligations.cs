using DmaVerify.Proofs.Z3;
using static DmaVerify.Proofs.Obligations.SpecMath;

namespace DmaVerify.Proofs.Obligations;

/// <summary>
/// iommu_pgsize (INV-14, INV-06): the constant-time bit rule equals the brute-force rule the
/// model uses — the largest size in the bitmap that is no larger than what remains and to which
/// both addresses are aligned (taking one page and choosing again is Linux's boundary rule).
/// Kernel: Optimized/PageTables/PageSizeRule.cs.
/// </summary>
internal static class PageSizeObligations
{
    /// <summary>The brute-force rule as a definition: <paramref name="size"/> is in the bitmap, a
    /// power of two no larger than what remains, and both addresses are aligned to it.</summary>
    private static BoolTerm Qualifies(BvTerm size, BvTerm sizes, BvTerm iova, BvTerm pa, BvTerm remaining) =>
        IsPowerOfTwo(size) & !(sizes & size).IsZero & (size <= remaining) & Aligned(iova | pa, size);

    public static IEnumerable<Obligation> All()
    {
        yield return new("PO-20", "INV-14", "page-size choice equals the brute-force rule (largest supported, aligned, fits)",
            ["PageSizeRule.Choose"], s =>
            {
                BvTerm sizes = s.Input("pageSizes", 64), iova = s.Input("iova", 64), pa = s.Input("pa", 64), remaining = s.Input("remaining", 64);
                var other = s.Input("otherSize", 64); // any size the brute-force scan could return
                var chosen = s.Bv("PageSizeRule.Choose", sizes, iova, pa, remaining);
                // The choice qualifies (or is 0), and no qualifying size is larger: the largest, as the scan finds it.
                return (chosen.IsZero | Qualifies(chosen, sizes, iova, pa, remaining))
                       & Qualifies(other, sizes, iova, pa, remaining).Implies(!chosen.IsZero & (other <= chosen));
            });
    }
}
