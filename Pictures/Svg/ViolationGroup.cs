using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Pictures.Svg;

/// <summary>
/// Violations drawn as one: the same invariant and device on ranges that touch or overlap, met
/// one after another (a checker reports a page table that maps a whole 1 MiB MSI window as 256
/// leaves, one violation each). Numbered in the picture ("V2"); <see cref="First"/> speaks for
/// the group, <see cref="Range"/> covers all of it.
/// </summary>
internal sealed record ViolationGroup(int Number, Violation First, AddrRange? Range, int Count)
{
    public string Tag => $"V{Number}";

    public static List<ViolationGroup> Group(IEnumerable<Violation> violations)
    {
        var groups = new List<ViolationGroup>();
        foreach (var v in violations)
        {
            if (groups.Count > 0 && groups[^1] is { } last && Joins(last, v))
            {
                var a = last.Range!.Value;
                var b = v.Range!.Value;
                groups[^1] = last with { Range = new AddrRange(Math.Min(a.Start, b.Start), Math.Max(a.Last, b.Last)), Count = last.Count + 1 };
                continue;
            }
            groups.Add(new ViolationGroup(groups.Count + 1, v, v.Range, 1));
        }
        return groups;
    }

    private static bool Joins(ViolationGroup group, Violation next)
    {
        if (group.First.Invariant != next.Invariant || group.First.Device != next.Device) return false;
        if (group.Range is not AddrRange a || next.Range is not AddrRange b) return false;
        // Touching or overlapping: neither starts beyond the other's end.
        return (UInt128)b.Start <= a.End && (UInt128)a.Start <= b.End;
    }
}
