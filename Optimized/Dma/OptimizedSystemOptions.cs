namespace DmaVerify.Optimized.Dma;

/// <summary>Which IOVA allocator a dma-iommu domain of an <see cref="OptimizedSystem"/> uses.</summary>
public enum IovaAllocatorKind
{
    /// <summary><see cref="Iova.AugmentedIovaAllocator"/>: O(log n), complete.</summary>
    Augmented,
    /// <summary><see cref="Iova.LinuxStyleIovaAllocator"/>: Linux's algorithm, incomplete through
    /// max32_alloc_size (see its class comment).</summary>
    LinuxStyle,
}

/// <summary>
/// How an <see cref="OptimizedSystem"/> is built. <see cref="Optimized"/> is the shipped
/// configuration ("optimized"); <see cref="LinuxStyle"/> the Linux peer ("linuxstyle").
/// </summary>
public sealed record OptimizedSystemOptions
{
    public IovaAllocatorKind Allocator { get; init; } = IovaAllocatorKind.Augmented;

    /// <summary>Unmaps give their IOVA to the per-size magazines (free_iova_fast) instead of
    /// straight back to the tree.</summary>
    public bool Magazines { get; init; } = true;

    /// <summary>A PCI device's 32-bit-first attempt flushes the magazines and retries before the
    /// device leaves 32-bit-first mode, so it leaves only when nothing fits below 4 GiB (the
    /// model's strict rule, <c>ModelOptions.StrictPci32First</c>). False is Linux's dma-iommu,
    /// whose 32-bit attempt does not flush and may give up while the magazines hold the space.
    /// The flush costs at most one per device: the mode is left for good.</summary>
    public bool Complete32BitFirst { get; init; } = true;

    public static OptimizedSystemOptions Optimized { get; } = new();

    public static OptimizedSystemOptions LinuxStyle { get; } = new()
    {
        Allocator = IovaAllocatorKind.LinuxStyle,
        Complete32BitFirst = false,
    };
}
