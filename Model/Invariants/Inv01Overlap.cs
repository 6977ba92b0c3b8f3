using DmaVerify.Contracts;

namespace DmaVerify.Model;

public static partial class InvariantChecker
{
    /// <summary>INV-01: no two allocations (live mapping, MSI page or flush-queue pending) of
    /// one domain's IOVA space overlap.</summary>
    private static void CheckOverlap(CheckContext c, List<Violation> output)
    {
        foreach (var domain in c.JudgedDomains)
        {
            var sorted = c.AllocationsOf(domain).OrderBy(a => a.Range.Start).ThenBy(a => a.Range.Last).ToList();
            IovaAllocation? reach = null; // the allocation reaching highest so far
            foreach (var a in sorted)
            {
                if (reach is not null && a.Range.Start <= reach.Range.Last)
                    output.Add(new Violation(Inv01, c.DeviceUsing(domain, a.Range), a.Range.Intersect(reach.Range),
                        $"domain {domain.Id}: {a.Owner} allocation {a.Range} overlaps {reach.Owner} allocation {reach.Range}"));
                if (reach is null || a.Range.Last > reach.Range.Last)
                    reach = a;
            }
        }
    }
}
