namespace DmaVerify.Optimized.PageTables;

/// <summary>One page-table page: its (simulated) physical address, its entries, and how many
/// entries are in use, so the walker knows in O(1) when a table has become empty.</summary>
internal sealed class TablePage
{
    public TablePage(int frame, ulong pa, ulong[] entries)
    {
        Frame = frame;
        Pa = pa;
        Entries = entries;
    }

    public int Frame { get; }
    public ulong Pa { get; }
    public ulong[] Entries { get; }
    /// <summary>Non-empty entries (each replicated slot of a large leaf counts).</summary>
    public int Used { get; set; }
}
