namespace DmaVerify.Optimized.Iova;

/// <summary>
/// The range-cache (magazine) arithmetic: which size class a range belongs to and whether a cached
/// PFN satisfies a request's limit. Static, pure and total, for Proofs/ to lift.
/// </summary>
public static class MagazineRules
{
    /// <summary>IOVA_RANGE_CACHE_MAX_SIZE: classes 0..5 hold ranges of 1, 2, 4, 8, 16, 32 granules.</summary>
    public const int Classes = 6;

    /// <summary>IOVA_MAG_SIZE: PFNs per magazine (a 1 KiB magazine with its size word).</summary>
    public const int MagazineSize = 127;

    /// <summary>The size class of a range of <paramref name="pages"/>: order_base_2(pages).</summary>
    public static int SizeClass(ulong pages) => IovaFit.OrderBase2(pages);

    /// <summary>Whether a range of <paramref name="pages"/> is cached at all (class below 6).</summary>
    public static bool IsCacheable(ulong pages) => pages >= 1 && IovaFit.OrderBase2(pages) < Classes;

    /// <summary>
    /// The pop-time limit check: a cached range [pfn, pfn + pages − 1] may serve a request whose
    /// inclusive limit is <paramref name="limitPfn"/> iff pfn + pages − 1 ≤ limitPfn, written
    /// without overflow (Linux compares pfn ≤ (limit_pfn + 1) − size).
    /// </summary>
    public static bool FitsLimit(ulong pfn, ulong pages, ulong limitPfn) =>
        pages >= 1 && pfn <= limitPfn && limitPfn - pfn >= pages - 1;
}
