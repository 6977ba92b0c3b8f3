using DmaVerify.Contracts;

namespace DmaVerify.Optimized.PageTables;

/// <summary>
/// One I/O page table of any format, as a DMA layer uses it (iommu_map / iommu_unmap /
/// iova_to_phys and the export of its leaves). Implemented by the generic
/// <see cref="PageTable{TFormat}"/>; create one with <see cref="PageTableFactory"/>.
/// </summary>
public interface IPageTable
{
    PageTableFormatKind Kind { get; }
    /// <summary>Leaf sizes in use (pgsize_bitmap).</summary>
    ulong PageSizes { get; }
    ulong Granule { get; }
    ulong IovaBase { get; }
    ulong IovaLast { get; }
    ulong PaLast { get; }
    /// <summary>Current levels (grows on AMD v1).</summary>
    int Levels { get; }
    /// <summary>Table pages in the tree (1 for an empty table).</summary>
    int TablePages { get; }
    /// <summary>Table pages detached into free lists and not released yet.</summary>
    int PendingFreeTablePages { get; }
    TablePageAllocator Allocator { get; }
    bool HasLeafPageArray { get; }

    /// <summary>iommu_map: leaves chosen by the iommu_pgsize rule. Fails (and leaves nothing of
    /// the request mapped) with InvalidArgument (no R/W, size 0, a PA the format cannot hold),
    /// Unaligned, Overflow, OutOfRange, AddressInUse (any part overlaps a live leaf or a
    /// non-empty table where a block would go) or OutOfMemory (a table page allocation failed).</summary>
    MapResult Map(ulong iova, ulong pa, ulong size, Prot prot);

    /// <summary>iommu_unmap: bytes unmapped from <paramref name="iova"/> on, whole leaves only (a
    /// partial unmap of a large page removes it and counts its full size), stopping at a hole; 0
    /// when iova or size is not granule aligned. Emptied tables are freed at once, or moved to
    /// <paramref name="deferFree"/> when given.</summary>
    ulong Unmap(ulong iova, ulong size, TableFreeList? deferFree = null);

    /// <summary>Frees the pages of a free list filled by <see cref="Unmap"/>.</summary>
    void ReleaseDeferred(TableFreeList list);

    bool TryTranslate(ulong iova, out Translation translation);
    Translation? Translate(ulong iova);

    /// <summary>The decoded leaves in IOVA order (one per leaf, however many slots it fills).</summary>
    IReadOnlyList<Leaf> Leaves();

    /// <summary>What a leaf mapped with <paramref name="requested"/> reads back as (stage-1 LPAE
    /// cannot drop read; the GART has no permission bits).</summary>
    Prot EffectiveProt(Prot requested);

    PageTableStats Stats();

    /// <summary>An independent copy of this table whose pages are those of
    /// <paramref name="pages"/>, a <see cref="TablePageAllocator.Clone"/> of <see cref="Allocator"/>.</summary>
    IPageTable CloneOnto(TablePageAllocator pages);

    /// <summary>INV-14 self check: every leaf canonical and inside the format's ranges, every
    /// table's use count right, no empty table below the top, the leaf-page array in step with
    /// the tree. Returns the problems found (empty when sound).</summary>
    IReadOnlyList<string> Audit();
}
