namespace DmaVerify.Optimized.PageTables;

/// <summary>
/// Table pages detached from a page table by an unmap but not yet freed, because a lazy
/// (flush-queue) domain may still have them cached in a walk cache until the next IOTLB flush
/// (INV-08). Hand the list back with <see cref="IPageTable.ReleaseDeferred"/> once that flush
/// has finished. One list collects pages of one page table.
/// </summary>
public sealed class TableFreeList
{
    internal List<TablePage> Pages { get; } = [];

    public int Count => Pages.Count;

    /// <summary>The same pages in <paramref name="pages"/>, a copy of their allocator.</summary>
    public TableFreeList CloneOnto(TablePageAllocator pages)
    {
        var copy = new TableFreeList();
        foreach (var page in Pages) copy.Pages.Add(pages.PageAt(page.Frame));
        return copy;
    }
}
