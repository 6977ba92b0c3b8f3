using DmaVerify.Contracts;

namespace DmaVerify.Pictures;

/// <summary>
/// What a reserved region an IOMMU reports (iommu_get_resv_regions) is, by its type, and what
/// the domain shown actually does with it, read from the domain's state: whether the range is
/// reserved in its IOVA space, which leaves map it, which MSI pages lie in it. The same region
/// means different things in different domains: dma-iommu reserves every type but SW_MSI in a
/// DMA domain and maps MSI doorbells at IOVAs of its own, while an unmanaged domain with an MSI
/// cookie puts its doorbell pages into the SW_MSI window (docs/show.md has the sources).
/// </summary>
internal static class RegionLabels
{
    public static string Of(ReservedRegion region, IommuConfig iommu, DomainState domain) =>
        $"{Name(region.Type)} of IOMMU {iommu.Id}: {WhatTheDomainDoes(region, domain)}";

    private static string Name(ReservedRegionType type) => type switch
    {
        ReservedRegionType.Msi => "hardware MSI window (IOMMU_RESV_MSI)",
        ReservedRegionType.SwMsi => "software-managed MSI window (IOMMU_RESV_SW_MSI)",
        ReservedRegionType.Direct => "direct region (IOMMU_RESV_DIRECT)",
        ReservedRegionType.DirectRelaxable => "direct region (IOMMU_RESV_DIRECT_RELAXABLE)",
        _ => "reserved region (IOMMU_RESV_RESERVED)",
    };

    private static string WhatTheDomainDoes(ReservedRegion region, DomainState domain)
    {
        switch (domain.Type)
        {
            case DomainType.Identity: return "an identity domain translates nothing (dma = phys)";
            case DomainType.Blocked: return "a blocked domain lets no DMA through";
        }
        bool reserved = domain.Reserved.Any(r => r.Range.Overlaps(region.Range));
        return region.Type switch
        {
            ReservedRegionType.Msi => domain.IsDmaApi
                ? (reserved ? "reserved, doorbell writes pass untranslated (IOVA = phys), never mapped"
                            : "NOT reserved in this DMA domain; doorbell writes pass untranslated (IOVA = phys)")
                : "doorbell writes pass untranslated; " + (reserved ? "reserved" : "not reserved in an unmanaged domain"),
            ReservedRegionType.SwMsi => domain.IsDmaApi ? SwMsiInDmaDomain(region, domain, reserved) : SwMsiInUnmanagedDomain(region, domain),
            ReservedRegionType.Direct or ReservedRegionType.DirectRelaxable => DirectMapping(region, domain),
            _ => reserved ? "never to be mapped" : "never to be mapped; not reserved in this domain",
        };
    }

    private static string SwMsiInDmaDomain(ReservedRegion region, DomainState domain, bool reserved)
    {
        int inside = domain.MsiPages.Count(p => region.Range.Contains(p.Iova));
        string pages = $"({Plural(domain.MsiPages.Count, "MSI page")} in this domain, {inside} inside the window)";
        return (reserved ? "reserved here although dma-iommu does not reserve SW_MSI windows" : "not reserved in a DMA domain, ordinary IOVA space") +
               $"; dma-iommu maps MSI doorbells itself at IOVAs from its allocator {pages}";
    }

    private static string SwMsiInUnmanagedDomain(ReservedRegion region, DomainState domain)
    {
        int used = domain.MsiPages.Count(p => region.Range.Contains(p.Iova));
        return $"the MSI cookie maps doorbell pages here by a bump pointer ({Plural(used, "page")} used, next {Hex.Format(domain.MsiBump)})";
    }

    private static string DirectMapping(ReservedRegion region, DomainState domain)
    {
        var identity = domain.Leaves.Values.Where(l => l.Iova == l.Phys && region.Range.Overlaps(l.Range)).ToList();
        return identity.Count == 0 ? "not mapped in this domain" : $"mapped 1:1 by {LeafSizes.Short(identity)}";
    }

    private static string Plural(int n, string one) => $"{n} {(n == 1 ? one : one + "s")}";
}
