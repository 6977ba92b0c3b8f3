using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>Small pure rules of the DMA API, written as the specification
/// (docs/linux-facts.md#dma-direct-and-swiotlb).</summary>
public static class DmaRules
{
    /// <summary>min_not_zero(a, b): 0 means "no limit".</summary>
    public static ulong MinNotZero(ulong a, ulong b) => a == 0 ? b : b == 0 ? a : Math.Min(a, b);

    /// <summary>
    /// dma_capable as the model uses it: [addr, addr+size) is reachable under
    /// min_not_zero(mask, busLimit). Unlike the kernel's literal arithmetic, a zero-size range or
    /// a range that wraps past 2^64 is never capable, and DMA_MAPPING_ERROR is never capable.
    /// </summary>
    public static bool DmaCapable(ulong addr, ulong size, ulong mask, ulong busLimit)
    {
        if (size == 0 || addr == ulong.MaxValue) return false;
        if (size - 1 > ulong.MaxValue - addr) return false; // wraps
        return addr + (size - 1) <= MinNotZero(mask, busLimit);
    }

    /// <summary>Permissions a DMA-API mapping of this direction needs (dma_info_to_prot).</summary>
    public static Prot ProtFor(DmaDirection direction) => direction switch
    {
        DmaDirection.ToDevice => Prot.Read,
        DmaDirection.FromDevice => Prot.Write,
        DmaDirection.Bidirectional => Prot.Read | Prot.Write,
        _ => Prot.None,
    };

    /// <summary>
    /// The read/write permission a leaf of this format ends up with when <paramref name="requested"/>
    /// is mapped: GART PTEs have no permission bits (read and write); a TCE grants read always;
    /// ARM LPAE stage 1 cannot express write-only (AP bits give read-only or read-write); VT-d,
    /// AMD v1 and LPAE stage 2 keep read and write apart. Other prot bits are not leaf permissions.
    /// </summary>
    public static Prot LeafPermissions(PageTableFormatKind format, Prot requested)
    {
        var rw = requested & (Prot.Read | Prot.Write);
        if (rw == Prot.None) return Prot.None;
        return format switch
        {
            PageTableFormatKind.Gart => Prot.Read | Prot.Write,
            PageTableFormatKind.Tce or PageTableFormatKind.ArmLpaeS1 => rw | Prot.Read,
            _ => rw,
        };
    }

    /// <summary>
    /// iommu_pgsize, brute force: the largest supported page size that is no larger than the
    /// remaining size and to which both the IOVA and the physical address are aligned.
    /// Taking one page at a time and choosing again equals Linux's (pgsize, count) runs with
    /// its stop-at-the-next-larger-boundary rule. Returns 0 when none fits.
    /// </summary>
    public static ulong ChoosePageSize(ulong pageSizes, ulong iova, ulong phys, ulong remaining)
    {
        for (int bit = 63; bit >= 0; bit--)
        {
            ulong size = 1UL << bit;
            if ((pageSizes & size) == 0 || size > remaining) continue;
            if (((iova | phys) & (size - 1)) == 0) return size;
        }
        return 0;
    }

    /// <summary>The leaves iommu_map creates for [iova, iova+size) → phys, greedy page sizes.</summary>
    public static IEnumerable<Leaf> LeavesFor(ulong pageSizes, ulong iova, ulong phys, ulong size, Prot prot)
    {
        ulong done = 0;
        while (done < size)
        {
            ulong page = ChoosePageSize(pageSizes, iova + done, phys + done, size - done);
            if (page == 0) yield break;
            yield return new Leaf(iova + done, phys + done, page, prot);
            done += page;
        }
    }
}
