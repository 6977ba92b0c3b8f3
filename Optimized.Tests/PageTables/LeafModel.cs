using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Tests.PageTables;

/// <summary>
/// The reference for the random tests: a dictionary of leaves keyed by IOVA, filled with
/// Model.DmaRules.LeavesFor and emptied by the model's unmap loop (leaf containing the cursor,
/// removed whole, stop at a hole).
/// </summary>
public sealed class LeafModel
{
    private readonly SortedList<ulong, Leaf> _leaves = [];

    public IList<Leaf> Leaves => _leaves.Values;
    public int Count => _leaves.Count;

    public Leaf? LeafAt(ulong iova)
    {
        var keys = _leaves.Keys;
        int lo = 0, hi = keys.Count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) / 2;
            if (keys[mid] <= iova) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        if (found < 0) return null;
        var leaf = _leaves.Values[found];
        return leaf.Range.Contains(iova) ? leaf : null;
    }

    public bool Overlaps(ulong iova, ulong last)
    {
        if (LeafAt(iova) is not null) return true;
        var keys = _leaves.Keys;
        int lo = 0, hi = keys.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (keys[mid] <= iova) lo = mid + 1; else hi = mid;
        }
        return lo < keys.Count && keys[lo] <= last;
    }

    public void Add(IEnumerable<Leaf> leaves)
    {
        foreach (var leaf in leaves) _leaves.Add(leaf.Iova, leaf);
    }

    public ulong Unmap(ulong iova, ulong size)
    {
        ulong unmapped = 0, cursor = iova;
        while (unmapped < size)
        {
            if (LeafAt(cursor) is not Leaf leaf) break;
            _leaves.Remove(leaf.Iova);
            unmapped = leaf.Size > ulong.MaxValue - unmapped ? ulong.MaxValue : unmapped + leaf.Size;
            if (leaf.Range.Last == ulong.MaxValue) break;
            cursor = leaf.Range.Last + 1;
        }
        return unmapped;
    }
}
