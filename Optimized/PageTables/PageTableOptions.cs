namespace DmaVerify.Optimized.PageTables;

/// <summary>How <see cref="PageTableFactory"/> builds a page table.</summary>
public sealed record PageTableOptions
{
    /// <summary>Where table pages come from; a private allocator when null.</summary>
    public TablePageAllocator? Allocator { get; init; }
    /// <summary>First IOVA of flat tables: the GART aperture start or the TCE window start.</summary>
    public ulong IovaBase { get; init; }
    /// <summary>The GART's scratch page (what unmapped slots point at).</summary>
    public ulong GartScratchPa { get; init; } = K8Gart.DefaultScratchPa;
    /// <summary>Keep the leaf-page array (AMD v1 DMA domains): O(1) PTE lookup for 4 KiB IOVAs.</summary>
    public bool LeafPageArray { get; init; }
    /// <summary>Last IOVA the leaf-page array covers; lookups above it walk the table.</summary>
    public ulong LeafPageArrayLast { get; init; } = (1UL << 48) - 1;
    /// <summary>A planted slip (the planted-bug catalog); none in real runs.</summary>
    internal OptimizedPlant Plant { get; init; }
}
