namespace DmaVerify.Optimized;

/// <summary>
/// Slips a kernel reviewer catches, plantable one at a time in this implementation and its
/// LinuxStyle peer to show that the engines find them (the planted-bug catalog,
/// docs/planted-bugs.md). Each is a one-line change at the site it names; <see cref="None"/>
/// in every real run. Internal: only the catalog (DmaVerify.PlantedBugs) and the tests set one.
/// </summary>
internal enum OptimizedPlant
{
    None,

    // ---- the IOVA allocators (Iova/) ----
    /// <summary>The gap that straddles the limit is clipped one PFN above it (an inclusive limit
    /// taken as exclusive): a range may end one granule past the device's limit.</summary>
    IovaLimitPastByOne,
    /// <summary>The gap that straddles the limit is clipped one PFN below it: the last granule
    /// under a limit is never handed out, so a request that needs it fails.</summary>
    IovaLimitOneShort,
    /// <summary>Tree allocations of 32 granules and more are not size-aligned (the alignment is
    /// applied only to the sizes the magazines cache).</summary>
    SizeAlignmentOnlyBelow32,
    /// <summary>A magazine hands out a cached range without checking it ends below the limit.</summary>
    MagazineIgnoresLimit,
    /// <summary>The range cache files a range under floor(log2) of its size instead of
    /// order_base_2, so 33–63-granule ranges share the 32-granule class.</summary>
    RcacheClassRoundsDown,
    /// <summary>LinuxStyle: the exclusive limit is computed twice (limit + 2): a range may end one
    /// granule past the limit.</summary>
    LinuxLimitPastByOne,
    /// <summary>LinuxStyle: the align mask is built for half the size, so ranges are aligned to
    /// half their power-of-two size.</summary>
    LinuxAlignMaskHalved,
    /// <summary>LinuxStyle: freeing the node cached32_node points at does not move the cache
    /// (the <c>free == cached32</c> test is missing): the next walk starts at a recycled node.</summary>
    LinuxCached32KeptOnFree,

    // ---- reservations and domain set-up (Dma/OptimizedSystem.Domains.cs) ----
    /// <summary>reserve_iova is called with an exclusive end: the last granule of every reserved
    /// region (MSI window, HT hole, PCI windows) stays allocatable.</summary>
    ReserveDropsLastGranule,
    /// <summary>iova_reserve_pci_windows is skipped in the allocator (the domain still lists the
    /// windows as reserved).</summary>
    PciWindowsNotReserved,
    /// <summary>A default domain made by a type change gets no 1:1 mappings for the direct
    /// (RMRR / unity) regions.</summary>
    DirectRegionsNotMappedOnTypeChange,

    // ---- limits and the DMA paths (Dma/OptimizedSystem.Map.cs, .Iova.cs) ----
    /// <summary>dma-iommu takes the DMA mask alone as the limit, ignoring bus_dma_limit.</summary>
    BusLimitIgnoredByIommuDma,
    /// <summary>dma_alloc_coherent uses the streaming DMA mask instead of the coherent one.</summary>
    CoherentMaskIgnored,
    /// <summary>PowerPC: a bidirectional mapping's TCE is written without TCE_PCI_WRITE (the write
    /// bit is set for DMA_FROM_DEVICE only).</summary>
    TceBidirectionalWriteBitLost,
    /// <summary>The GART aperture test checks all but the last byte of a buffer, so a buffer
    /// ending on the aperture's first byte is bypassed 1:1.</summary>
    GartApertureLastByteUnchecked,
    /// <summary>dma-direct takes a bounce slot anywhere in the pool, ignoring the device's limit.</summary>
    BounceIgnoresLimit,
    /// <summary>The untrusted-device bounce test looks at the buffer's start only, not its length.</summary>
    UntrustedTailNotBounced,
    /// <summary>The PCI 32-bit-first pass of dma-iommu is skipped.</summary>
    Pci32FirstSkipped,

    // ---- scatter-gather (Dma/OptimizedSystem.Sg.cs) ----
    /// <summary>A merged DMA segment may be one byte longer than max_segment_size.</summary>
    SgMaxSegmentPastByOne,
    /// <summary>The boundary pad is computed for the entry before the one it belongs to, so the
    /// second entry is never padded.</summary>
    SgPadSkipsSecondEntry,

    // ---- dma-debug checks (Dma/OptimizedSystem.Map.cs) ----
    /// <summary>An unmap with the wrong direction is accepted.</summary>
    WrongDirectionUnmapAccepted,
    /// <summary>dma_unmap_sg does not check nents against the map's.</summary>
    SgNentsUnchecked,
    /// <summary>An unmapped address is not remembered, so a double unmap reads as an unknown handle.</summary>
    DoubleUnmapNotTracked,

    // ---- IOTLB and flush queue (Dma/OptimizedSystem.Access.cs, .FlushQueue.cs) ----
    /// <summary>IOTLB invalidation stops one granule short of the range's end.</summary>
    IotlbInvalidationMissesLastGranule,
    /// <summary>IOTLB invalidation drops only granule-sized entries: superpage walks stay cached.</summary>
    IotlbInvalidationSkipsSuperpages,
    /// <summary>A flush-queue entry is released once the finished count reaches its counter
    /// (<c>&lt;=</c> for <c>&lt;</c>): entries queued since the last flush are freed unflushed.</summary>
    FlushQueueReleasesUnflushed,

    // ---- page tables (PageTables/) ----
    /// <summary>VT-d: superpage leaves are written without the PS bit.</summary>
    VtdSuperpagePsBitLost,
    /// <summary>AMD v1: leaves larger than 4 KiB are written without IW.</summary>
    AmdLargePageWriteBitLost,
    /// <summary>K8 GART: the PTE keeps physical address bits 31:12 only (bits 39:32 lost).</summary>
    GartPteHighAddressBitsLost,
    /// <summary>Unmap leaves emptied table pages in place (no prune): page-table memory leaks.</summary>
    EmptyTablesNotFreed,
    /// <summary>A map that fails part-way keeps the leaves it wrote.</summary>
    FailedMapKeepsLeaves,
    /// <summary>A map that fails after its IOVA was allocated keeps the allocation's record (the
    /// domain still lists the range as a mapping's).</summary>
    FailedMapKeepsAllocation,
}
