using DmaVerify.Proofs.Z3;
using static DmaVerify.Proofs.Obligations.SpecMath;

namespace DmaVerify.Proofs.Obligations;

/// <summary>
/// The range-cache (magazine) rules (INV-05, INV-11): a cached range is handed out only below
/// the request's limit, and ranges land in the size class Linux uses. Kernels:
/// Optimized/Iova/MagazineRules.cs.
/// </summary>
internal static class MagazineObligations
{
    public static IEnumerable<Obligation> All()
    {
        yield return new("PO-35", "INV-05", "magazine pop: a cached [pfn, pfn + pages) serves a request iff it ends at or below the limit",
            ["MagazineRules.FitsLimit"], s =>
            {
                BvTerm pfn = s.Input("pfn", 64), pages = s.Input("pages", 64), limit = s.Input("limitPfn", 64);
                var spec = (pages >= 1UL) & (Wide(pfn) + Wide(pages) - Wide(s, 1) <= Wide(limit));
                return s.Bool("MagazineRules.FitsLimit", pfn, pages, limit) == spec;
            });

        yield return new("PO-36", "INV-11", "size classes: ranges of 1..32 granules are cached, in class c with 2^(c-1) < pages <= 2^c",
            ["MagazineRules.IsCacheable", "MagazineRules.SizeClass"], s =>
            {
                BvTerm pages = s.Input("pages", 64);
                var cacheable = s.Bool("MagazineRules.IsCacheable", pages);
                var cls = s.Bv("MagazineRules.SizeClass", pages).ZeroExtend(32);
                var pow = s.Num(1).Shl(cls);
                var classFits = (pages <= pow) & ((pages == 1UL) | (pow >> 1 < pages));
                return (cacheable == InRange(pages, 1, 32)) & InRange(pages, 1, 32).Implies(classFits & (cls <= 5UL));
            });
    }
}
