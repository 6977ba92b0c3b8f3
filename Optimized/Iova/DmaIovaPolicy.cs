namespace DmaVerify.Optimized.Iova;

/// <summary>
/// dma-iommu's choice of limit on top of an allocator (iommu_dma_alloc_iova,
/// docs/linux-facts.md#iova-limit-and-32-bit-first): a PCI device that still has its 32-bit
/// workaround flag tries below 4 GiB first, without flushing caches; on failure the flag is cleared
/// for good and the request is retried under the device's full limit with a flush. The caller has
/// already applied the bus limit and the aperture to <paramref name="limitPfn"/>.
/// </summary>
public static class DmaIovaPolicy
{
    /// <summary>The last PFN below 4 GiB for a granule of 2^<paramref name="granuleShift"/> bytes.</summary>
    public static ulong Pfn32Limit(int granuleShift) => 0xFFFF_FFFFUL >> granuleShift;

    /// <summary>Whether a request under <paramref name="limitPfn"/> makes a 32-bit-first attempt.</summary>
    public static bool Tries32BitFirst(bool pci32BitFirst, ulong limitPfn, int granuleShift) =>
        pci32BitFirst && limitPfn > Pfn32Limit(granuleShift);

    public static ulong Alloc(IIovaAllocator allocator, ulong pages, ulong limitPfn, int granuleShift, ref bool pci32BitFirst)
    {
        ulong limit32 = Pfn32Limit(granuleShift);
        if (Tries32BitFirst(pci32BitFirst, limitPfn, granuleShift))
        {
            ulong pfn = allocator.AllocFast(pages, limit32, flushCachesOnFailure: false);
            if (pfn != 0) return pfn;
            pci32BitFirst = false; // "Using %d-bit DMA addresses": permanent for the device
        }
        return allocator.AllocFast(pages, limitPfn, flushCachesOnFailure: true);
    }
}
