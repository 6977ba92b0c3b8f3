using DmaVerify.Contracts;

namespace DmaVerify.Model;

public static partial class InvariantChecker
{
    /// <summary>INV-02: no allocation overlaps a region reserved in IOVA space by one of the
    /// domain's IOMMUs (Direct, DirectRelaxable, Reserved, Msi — not SwMsi), a PCI host-bridge
    /// window when a PCI device is attached, or a range the domain itself lists as reserved.</summary>
    private static void CheckReservedRanges(CheckContext c, List<Violation> output)
    {
        foreach (var domain in c.JudgedDomains)
        {
            var allocations = c.AllocationsOf(domain);
            if (allocations.Count == 0) continue;
            var regions = c.RegionsOf(domain).Where(r => r.IsReservedInIovaSpace).ToList();
            var windows = c.PciWindowsOf(domain);
            var reserved = CheckContext.NonNull(domain.Reserved);
            foreach (var a in allocations)
            {
                foreach (var region in regions)
                    if (a.Range.Overlaps(region.Range))
                        output.Add(new Violation(Inv02, c.DeviceUsing(domain, a.Range), a.Range.Intersect(region.Range),
                            $"domain {domain.Id}: {a.Owner} allocation {a.Range} overlaps the {region.Type} region {region.Range}"));
                foreach (var window in windows)
                    if (a.Range.Overlaps(window))
                        output.Add(new Violation(Inv02, c.DeviceUsing(domain, a.Range), a.Range.Intersect(window),
                            $"domain {domain.Id}: {a.Owner} allocation {a.Range} overlaps the PCI host-bridge window {window}"));
                foreach (var r in reserved)
                    if (a.Range.Overlaps(r.Range))
                        output.Add(new Violation(Inv02, c.DeviceUsing(domain, a.Range), a.Range.Intersect(r.Range),
                            $"domain {domain.Id}: {a.Owner} allocation {a.Range} overlaps reserved IOVA {r.Range} ({r.Reason})"));
            }
        }
    }
}
