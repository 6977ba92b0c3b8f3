using DmaVerify.Model;

namespace DmaVerify.Optimized.PageTables;

/// <summary>The answer of <see cref="IPageTable.Map"/>: success, or the error kind and the IOVA
/// where mapping stopped (nothing of the request stays mapped either way on failure).</summary>
public readonly record struct MapResult(DmaErrorKind? Error, ulong At)
{
    public static readonly MapResult Ok = new(null, 0);
    public bool IsSuccess => Error is null;
    public override string ToString() => Error is DmaErrorKind kind ? $"{kind} at {Hex.Format(At)}" : "ok";
}

/// <summary>What a device access to one IOVA reaches: the physical byte, the leaf's
/// permissions, and the leaf itself (its first IOVA and size, e.g. for an IOTLB entry).</summary>
public readonly record struct Translation(ulong Pa, Prot Prot, ulong LeafIova, ulong LeafSize)
{
    public override string ToString() =>
        $"{Hex.Format(Pa)} {Prot} (leaf {Hex.Format(LeafIova)}+{Hex.Format(LeafSize)})";
}

/// <summary>Shape of a page table: tables and leaf slots per level (replicated slots of an AMD
/// next-level-7 leaf each count, as generic_pt's entry counts do).</summary>
public sealed record PageTableStats(int Levels, int[] TablesPerLevel, int[] LeafEntriesPerLevel, int Leaves)
{
    public int Tables => TablesPerLevel.Sum();
    public int LeafEntries => LeafEntriesPerLevel.Sum();
}
