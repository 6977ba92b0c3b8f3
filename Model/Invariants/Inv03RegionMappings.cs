using DmaVerify.Contracts;

namespace DmaVerify.Model;

public static partial class InvariantChecker
{
    /// <summary>INV-03: in paging domains no leaf overlaps an Msi or Reserved region; in
    /// unmanaged domains no leaf overlaps any region closed to user mappings (all but
    /// DirectRelaxable) except the MSI pages the kernel maps into the SW_MSI window; in DMA-API
    /// domains every Direct/DirectRelaxable region, aligned outward to the granule, is covered
    /// by identity leaves (iova == phys).</summary>
    private static void CheckRegionMappings(CheckContext c, List<Violation> output)
    {
        foreach (var domain in c.JudgedDomains)
        {
            if (!domain.IsPaging) continue;
            var leaves = c.LeavesOf(domain);
            var regions = c.RegionsOf(domain);
            foreach (var region in regions.Where(r => r.MustNeverBeMapped))
                foreach (var leaf in leaves.Overlapping(region.Range))
                    output.Add(new Violation(Inv03, null, leaf.Range.Intersect(region.Range),
                        $"domain {domain.Id}: leaf {leaf} maps part of the {region.Type} region {region.Range}, which must never be mapped"));
            if (domain.Type == DomainType.Unmanaged)
                CheckUserMappingsAvoidRegions(domain, leaves, regions, output);

            ulong granule = CheckContext.Granule(domain);
            if (!domain.IsDmaApi || granule == 0) continue;
            foreach (var region in regions.Where(r => r.IsIdentityMapped))
            {
                var needed = CheckContext.Outward(region.Range, granule);
                AddrRange? firstHole = null, firstWrong = null;
                Leaf? wrongLeaf = null;
                foreach (var (piece, leaf) in leaves.Walk(needed))
                {
                    if (leaf is null) firstHole ??= piece;
                    else if (leaf.Iova != leaf.Phys && firstWrong is null) { firstWrong = piece; wrongLeaf = leaf; }
                }
                if (firstHole is AddrRange hole)
                    output.Add(new Violation(Inv03, null, hole,
                        $"domain {domain.Id}: the {region.Type} region {region.Range} (granule-aligned {needed}) must stay identity-mapped, but {hole} has no leaf"));
                if (firstWrong is AddrRange wrong)
                    output.Add(new Violation(Inv03, null, wrong,
                        $"domain {domain.Id}: the {region.Type} region {region.Range} must stay identity-mapped, but leaf {wrongLeaf} is not 1:1"));
            }
        }
    }

    /// <summary>VFIO and iommufd keep user mappings out of every reported region but a
    /// relaxable direct one; the only leaves allowed there are the kernel's MSI pages in the
    /// SW_MSI window (iommu_dma_sw_msi with an MSI cookie). Msi and Reserved overlaps are
    /// reported by the paging-domain rule already.</summary>
    private static void CheckUserMappingsAvoidRegions(DomainState domain, LeafIndex leaves, IReadOnlyList<ReservedRegion> regions, List<Violation> output)
    {
        var msiPageIovas = CheckContext.NonNull(domain.MsiPages).Select(p => p.Iova).ToHashSet();
        foreach (var region in regions.Where(r => r.ClosedToUserMappings && !r.MustNeverBeMapped))
            foreach (var leaf in leaves.Overlapping(region.Range))
            {
                if (region.Type == ReservedRegionType.SwMsi && msiPageIovas.Contains(leaf.Iova)) continue;
                output.Add(new Violation(Inv03, null, leaf.Range.Intersect(region.Range),
                    $"unmanaged domain {domain.Id}: leaf {leaf} maps part of the {region.Type} region {region.Range}, which VFIO and iommufd keep out of user IOVA"));
            }
    }
}
