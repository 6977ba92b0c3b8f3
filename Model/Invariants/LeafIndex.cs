using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>
/// The well-formed leaves of one page table sorted by IOVA, with lookups that let a check walk
/// an address range leaf by leaf (never byte by byte). Leaves with size 0 or a range that wraps
/// past 2^64 are left out (INV-14 reports them). When leaves overlap (also INV-14), the leaf
/// found for an address is the last one starting at or below it.
/// </summary>
internal sealed class LeafIndex
{
    private readonly Leaf[] _leaves;

    public LeafIndex(IEnumerable<Leaf?>? leaves)
    {
        var kept = new List<Leaf>(leaves is ICollection<Leaf?> c ? c.Count : 16);
        bool sorted = true;
        foreach (var l in leaves ?? [])
        {
            if (l is null || !IsWellFormed(l)) continue;
            if (kept.Count > 0 && kept[^1].Iova > l.Iova) sorted = false;
            kept.Add(l);
        }
        _leaves = sorted ? [.. kept] : [.. kept.OrderBy(l => l.Iova)];
    }

    public IReadOnlyList<Leaf> Leaves => _leaves;

    public static bool IsWellFormed(Leaf leaf) => leaf.Size != 0 && leaf.Size - 1 <= ulong.MaxValue - leaf.Iova;

    public static ulong LastOf(Leaf leaf) => leaf.Iova + (leaf.Size - 1);

    /// <summary>Index of the first leaf starting above <paramref name="address"/>.</summary>
    private int UpperBound(ulong address)
    {
        int lo = 0, hi = _leaves.Length;
        while (lo < hi)
        {
            int mid = lo + (hi - lo) / 2;
            if (_leaves[mid].Iova <= address) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    public Leaf? Find(ulong address)
    {
        int i = UpperBound(address) - 1;
        return i >= 0 && address - _leaves[i].Iova < _leaves[i].Size ? _leaves[i] : null;
    }

    /// <summary>
    /// Splits <paramref name="range"/> into consecutive pieces, each inside one leaf or inside a
    /// hole between leaves (Leaf null).
    /// </summary>
    public IEnumerable<(AddrRange Piece, Leaf? Leaf)> Walk(AddrRange range)
    {
        ulong cursor = range.Start;
        while (true)
        {
            ulong last;
            var leaf = Find(cursor);
            if (leaf is not null)
            {
                last = Math.Min(LastOf(leaf), range.Last);
            }
            else
            {
                int next = UpperBound(cursor);
                last = next < _leaves.Length && _leaves[next].Iova <= range.Last ? _leaves[next].Iova - 1 : range.Last;
            }
            yield return (new AddrRange(cursor, last), leaf);
            if (last == range.Last) yield break;
            cursor = last + 1;
        }
    }

    /// <summary>Leaves overlapping the range.</summary>
    public IEnumerable<Leaf> Overlapping(AddrRange range)
    {
        foreach (var (_, leaf) in Walk(range))
            if (leaf is not null)
                yield return leaf;
    }

    /// <summary>Whether the leaf maps <paramref name="address"/> with the same offset as a
    /// translation that sends <paramref name="fromBase"/> to <paramref name="toBase"/>.</summary>
    public static bool SameTranslation(Leaf leaf, ulong fromBase, ulong toBase) =>
        unchecked(leaf.Phys - leaf.Iova) == unchecked(toBase - fromBase);
}
