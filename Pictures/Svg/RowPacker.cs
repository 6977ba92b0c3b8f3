using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Pictures.Svg;

/// <summary>Puts ranges on rows so that no two on a row overlap: first fit, in address order.
/// Overlapping allocations (an INV-01 violation) thus land on separate rows and stay visible.</summary>
internal static class RowPacker
{
    public static List<List<T>> Pack<T>(IEnumerable<T> items, Func<T, AddrRange> rangeOf)
    {
        var rows = new List<List<T>>();
        var rowEnds = new List<UInt128>(); // exclusive end of the last range on each row
        foreach (var item in items.OrderBy(i => rangeOf(i).Start).ThenByDescending(i => rangeOf(i).Last))
        {
            var r = rangeOf(item);
            int row = rowEnds.FindIndex(end => end <= r.Start);
            if (row < 0)
            {
                rows.Add([]);
                rowEnds.Add(0);
                row = rows.Count - 1;
            }
            rows[row].Add(item);
            rowEnds[row] = r.End;
        }
        return rows;
    }
}
