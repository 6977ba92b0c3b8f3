namespace DmaVerify.Optimized.Iova;

/// <summary>
/// The argument rules of <see cref="IIovaAllocator"/>, shared by every implementation and by
/// the adapters that put foreign allocators behind it: what the space's last PFN is, which
/// requests can be answered at all, and which ranges can be given back. Calls that fail these
/// get 0 / false without reaching the allocator.
/// </summary>
public static class IovaArguments
{
    /// <summary>The highest PFN of a space with 2^<paramref name="granuleShift"/>-byte granules:
    /// <c>2^64−1 &gt;&gt; shift</c> (Linux's reserve_iova range check), capped at 2^64 − 2 so
    /// that an inclusive range end plus one never wraps.</summary>
    public static ulong MaxPfn(int granuleShift) => Math.Min(ulong.MaxValue >> granuleShift, ulong.MaxValue - 1);

    /// <summary>The lowest allocatable PFN: <paramref name="startPfn"/> raised to 1 (PFN 0 is the
    /// failure value) and kept below <paramref name="maxPfn"/>.</summary>
    public static ulong StartPfn(ulong startPfn, ulong maxPfn) => Math.Clamp(startPfn, 1, maxPfn);

    /// <summary>Clips <paramref name="limitPfn"/> to the space and says whether a range of
    /// <paramref name="pages"/> can lie in [start, limit] at all.</summary>
    public static bool CanRequest(ulong pages, ref ulong limitPfn, ulong startPfn, ulong maxPfn)
    {
        if (pages == 0) return false;
        if (limitPfn > maxPfn) limitPfn = maxPfn;
        if (limitPfn < startPfn) return false;
        return pages - 1 <= limitPfn - startPfn;
    }

    /// <summary>Whether [pfn, pfn + pages − 1] is a non-empty range inside [start, max].</summary>
    public static bool IsRange(ulong pfn, ulong pages, ulong startPfn, ulong maxPfn) =>
        pages != 0 && pfn >= startPfn && pfn <= maxPfn && pages - 1 <= maxPfn - pfn;
}
