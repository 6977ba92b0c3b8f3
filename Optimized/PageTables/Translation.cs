using DmaVerify.Contracts;

namespace DmaVerify.Optimized.PageTables;

/// <summary>What a device access to one IOVA reaches: the physical byte, the leaf's
/// permissions, and the leaf itself (its first IOVA and size, e.g. for an IOTLB entry).</summary>
public readonly record struct Translation(ulong Pa, Prot Prot, ulong LeafIova, ulong LeafSize)
{
    public override string ToString() =>
        $"{Hex.Format(Pa)} {Prot} (leaf {Hex.Format(LeafIova)}+{Hex.Format(LeafSize)})";
}
