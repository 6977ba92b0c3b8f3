namespace DmaVerify.Optimized.PageTables;

/// <summary>Shape of a page table: tables and leaf slots per level (replicated slots of an AMD
/// next-level-7 leaf each count, as generic_pt's entry counts do).</summary>
public sealed record PageTableStats(int Levels, int[] TablesPerLevel, int[] LeafEntriesPerLevel, int Leaves)
{
    public int Tables => TablesPerLevel.Sum();
    public int LeafEntries => LeafEntriesPerLevel.Sum();
}
