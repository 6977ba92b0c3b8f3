using DmaVerify.Contracts;

namespace DmaVerify.Model;

public static partial class InvariantChecker
{
    private const int MaxListed = 16;

    /// <summary>
    /// INV-15 on a state: nothing is left behind. In DMA-API domains every Mapping-owned
    /// allocation is used by a live mapping's part, every translated part names an allocation
    /// the domain holds (and lies inside it), and every leaf is covered by a live Mapping or
    /// MsiPage allocation or is an identity leaf of a Direct/DirectRelaxable region (granule
    /// aligned) — after an unmap in a DmaFq domain the leaves go at once and only the IOVA waits
    /// in the flush queue, so leaves there are orphans too. Every bounce slot is used by a live
    /// mapping part, and every part's bounce slot exists.
    /// </summary>
    private static void CheckOrphans(CheckContext c, List<Violation> output)
    {
        foreach (var domain in c.JudgedDomains)
            if (domain.IsDmaApi)
                CheckDomainOrphans(c, domain, output);

        var usedSlots = new HashSet<int>();
        foreach (var m in c.Mappings)
            foreach (var part in c.PartsOf(m))
                if (part.Bounce is int id)
                {
                    usedSlots.Add(id);
                    if (c.Bounce(id) is null)
                        output.Add(new Violation(Inv15, m.Device, CheckContext.TryRange(part.Dma, part.Length, out var r) ? r : null,
                            $"mapping {m.Id}: part names bounce slot {id}, which does not exist"));
                }
        foreach (var slot in c.Bounces)
            if (!usedSlots.Contains(slot.Id))
                output.Add(new Violation(Inv15, slot.Device, slot.Slot,
                    $"bounce slot {slot.Id} {slot.Slot} of device {slot.Device} is used by no live mapping: leaked"));
    }

    private static void CheckDomainOrphans(CheckContext c, DomainState domain, List<Violation> output)
    {
        var allocations = c.AllocationsOf(domain);
        var mappingAllocs = allocations.Where(a => a.Owner == AllocationOwner.Mapping).Select(a => a.Range).ToHashSet();
        var used = new HashSet<AddrRange>();
        foreach (var m in c.Mappings)
            foreach (var part in c.PartsOf(m))
            {
                if (part.Domain != domain.Id) continue;
                var range = CheckContext.TryRange(part.Dma, part.Length, out var r) ? r : (AddrRange?)null;
                if (part.Allocation is not AddrRange alloc)
                {
                    output.Add(new Violation(Inv15, m.Device, range, $"mapping {m.Id}: part {CheckContext.Describe(range)} in domain {domain.Id} names no IOVA allocation"));
                    continue;
                }
                used.Add(alloc);
                if (!mappingAllocs.Contains(alloc))
                    output.Add(new Violation(Inv15, m.Device, alloc,
                        $"mapping {m.Id}: part {CheckContext.Describe(range)} lives in IOVA allocation {alloc}, which domain {domain.Id} does not hold for a mapping"));
                else if (range is AddrRange pr && !alloc.Contains(pr))
                    output.Add(new Violation(Inv15, m.Device, pr,
                        $"mapping {m.Id}: part {pr} reaches outside its IOVA allocation {alloc}"));
            }
        foreach (var a in mappingAllocs)
            if (!used.Contains(a))
                output.Add(new Violation(Inv15, null, a, $"domain {domain.Id}: Mapping allocation {a} is used by no live mapping: leaked IOVA"));

        var live = new RangeUnion(allocations.Where(a => a.Owner is AllocationOwner.Mapping or AllocationOwner.MsiPage).Select(a => a.Range));
        ulong granule = CheckContext.Granule(domain);
        var direct = new RangeUnion(c.RegionsOf(domain).Where(r => r.IsIdentityMapped).Select(r => CheckContext.Outward(r.Range, granule)));
        var orphans = new List<AddrRange>();
        foreach (var leaf in c.LeavesOf(domain).Leaves)
        {
            var range = leaf.Range;
            bool covered = live.Covers(range) || (leaf.Iova == leaf.Phys && direct.Covers(range));
            if (covered) continue;
            if (orphans.Count > 0 && orphans[^1].Last != ulong.MaxValue && orphans[^1].Last + 1 == range.Start)
                orphans[^1] = new AddrRange(orphans[^1].Start, range.Last);
            else
                orphans.Add(range);
        }
        foreach (var run in orphans.Take(MaxListed))
            output.Add(new Violation(Inv15, null, run,
                $"domain {domain.Id}: leaves map {run}, which no live mapping, MSI page or direct region accounts for: orphaned translation"));
        if (orphans.Count > MaxListed)
            output.Add(new Violation(Inv15, null, null, $"domain {domain.Id}: {orphans.Count - MaxListed} more runs of orphaned leaves"));
    }

    /// <summary>
    /// INV-15 on a step: a failed op changes nothing. DeviceAccess (a fault may be recorded)
    /// and Tick/Flush are exempt. The one change Linux makes on a failed allocation is allowed:
    /// a PCI device drops out of 32-bit-first mode (pci_32bit_workaround) for good.
    /// </summary>
    private static void CheckAtomicity(CheckContext before, CheckContext after, Op op, Outcome outcome, List<Violation> output)
    {
        if (outcome is not Failed failed || op is DeviceAccess or Tick or Flush) return;
        var diffs = StateDiff.Differences(before.State, after.State, allowPci32FirstCleared: true);
        if (diffs.Count == 0) return;
        int? device = op switch
        {
            Map m => m.Device, MapSg s => s.Device, AllocCoherent a => a.Device, MapResource r => r.Device,
            Unmap u => u.Device, UnmapSg u => u.Device, FreeCoherent f => f.Device, UnmapResource u => u.Device,
            SetupMsi msi => msi.Device, Attach at => at.Device, SetDomainType t => t.Device, SetMask sm => sm.Device,
            _ => null,
        };
        output.Add(new Violation(Inv15, device, null,
            $"{op.GetType().Name} failed ({failed.Kind}) but changed the state: {string.Join("; ", diffs.Take(MaxListed))}" +
            (diffs.Count > MaxListed ? $"; and {diffs.Count - MaxListed} more" : "")));
    }
}
