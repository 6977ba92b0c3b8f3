using DmaVerify.Optimized.Iova;

namespace DmaVerify.Optimized.Dma;

/// <summary>Builds the IOVA allocator of one dma-iommu domain: PFNs of 2^<paramref name="granuleShift"/>
/// bytes from <paramref name="startPfn"/> (≥ 1) up. Any <see cref="IIovaAllocator"/> will do;
/// the DMA layer above it is the same, so a finding against it is about the allocator.</summary>
public delegate IIovaAllocator IovaAllocatorFactory(ulong startPfn, int granuleShift);

/// <summary>
/// How an <see cref="OptimizedSystem"/> is built. <see cref="Optimized"/> is the shipped
/// configuration ("optimized"); <see cref="LinuxStyle"/> the Linux peer ("linuxstyle").
/// </summary>
public sealed record OptimizedSystemOptions
{
    /// <summary>The name the system reports (<c>--impl NAME</c>).</summary>
    public string Name { get; init; } = "optimized";

    /// <summary>The allocator every dma-iommu domain gets.</summary>
    public IovaAllocatorFactory IovaAllocator { get; init; } = static (start, shift) => new AugmentedIovaAllocator(start, shift);

    /// <summary>Unmaps give their IOVA to the per-size magazines (free_iova_fast) instead of
    /// straight back to the tree.</summary>
    public bool Magazines { get; init; } = true;

    /// <summary>A PCI device's 32-bit-first attempt flushes the magazines and retries before the
    /// device leaves 32-bit-first mode, so it leaves only when nothing fits below 4 GiB (the
    /// model's strict rule). False is Linux's dma-iommu, whose 32-bit attempt does not flush and
    /// may give up while the magazines hold the space. The flush costs at most one per device:
    /// the mode is left for good.</summary>
    public bool Complete32BitFirst { get; init; } = true;

    /// <summary>A planted slip (the planted-bug catalog); <see cref="OptimizedPlant.None"/> in every real run.</summary>
    internal OptimizedPlant Plant { get; init; }

    /// <summary>The augmented tree (O(log n), complete) with magazines.</summary>
    public static OptimizedSystemOptions Optimized { get; } = new();

    /// <summary>Linux's rbtree algorithm, incomplete through max32_alloc_size (see
    /// <see cref="LinuxStyleIovaAllocator"/>), with dma-iommu's non-flushing 32-bit pass.</summary>
    public static OptimizedSystemOptions LinuxStyle { get; } = new()
    {
        Name = "linuxstyle",
        IovaAllocator = static (start, shift) => new LinuxStyleIovaAllocator(start, shift),
        Complete32BitFirst = false,
    };
}
