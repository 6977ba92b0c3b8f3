namespace DmaVerify.Model;

/// <summary>
/// Bugs that can be switched on in the model, for tests only: the kinds of slip a reviewer
/// catches in DMA code. They show that the invariant checkers (full and incremental) see a
/// wrong model, and that refinement against an independent implementation sees a mistake the
/// model makes alone. Off in every real run.
/// </summary>
[Flags]
internal enum ModelPlant
{
    None = 0,
    /// <summary>TCE mappings ignore the bus DMA limit (the limit is the mask alone).</summary>
    TceIgnoresBusLimit = 1 << 0,
    /// <summary>GART/TCE map an untrusted device's unaligned buffer instead of refusing it.</summary>
    UntrustedUnalignedThroughTable = 1 << 1,
    /// <summary>A strict unmap forgets to invalidate the IOTLB.</summary>
    StrictUnmapKeepsIotlb = 1 << 2,
    /// <summary>An unmap forgets to release its bounce slot.</summary>
    UnmapLeaksBounce = 1 << 3,
    /// <summary>A lazy unmap frees the IOVA at once instead of holding it until the flush.</summary>
    LazyUnmapFreesIova = 1 << 4,
    /// <summary>dma-iommu maps one granule past the buffer's physical address.</summary>
    LeavesOffByOneGranule = 1 << 5,
    /// <summary>The last device of an IOMMU leaves a domain without invalidating that IOMMU's IOTLB.</summary>
    DetachKeepsIotlb = 1 << 6,
    /// <summary>Reserved ranges are listed but not kept out of the allocator's way.</summary>
    ReservedNotOccupied = 1 << 7,
    /// <summary>An unmap with the wrong size is accepted.</summary>
    WrongSizeUnmapAccepted = 1 << 8,
    /// <summary>An unmap leaves the leaves in the page table.</summary>
    UnmapKeepsLeaves = 1 << 9,
    /// <summary>__finalise_sg merges past max_segment_size.</summary>
    SgMergeIgnoresMaxSegment = 1 << 10,
    /// <summary>A failed map keeps what it had done before it failed.</summary>
    FailedOpKeepsChanges = 1 << 11,
}
