using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>The union of a set of address ranges as sorted, disjoint, non-adjacent intervals,
/// answering "is this range entirely covered" in O(log n).</summary>
internal sealed class RangeUnion
{
    private readonly List<AddrRange> _merged = [];

    public RangeUnion(IEnumerable<AddrRange> ranges)
    {
        foreach (var r in ranges.OrderBy(r => r.Start))
        {
            if (_merged.Count > 0)
            {
                var last = _merged[^1];
                if (last.Last == ulong.MaxValue || r.Start <= last.Last + 1)
                {
                    if (r.Last > last.Last) _merged[^1] = new AddrRange(last.Start, r.Last);
                    continue;
                }
            }
            _merged.Add(r);
        }
    }

    public bool Covers(AddrRange target)
    {
        int lo = 0, hi = _merged.Count;
        while (lo < hi) // first interval starting above target.Start
        {
            int mid = lo + (hi - lo) / 2;
            if (_merged[mid].Start <= target.Start) lo = mid + 1; else hi = mid;
        }
        return lo > 0 && _merged[lo - 1].Contains(target);
    }
}
