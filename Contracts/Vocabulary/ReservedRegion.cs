namespace DmaVerify.Contracts;

/// <summary>
/// A reserved region an IOMMU reports for its devices (struct iommu_resv_region).
/// In a DMA domain every type but SwMsi is reserved in IOVA space (dma-iommu's
/// iova_reserve_iommu_regions); Direct and DirectRelaxable are also mapped 1:1 for as long as
/// the domain lives; Msi is an untranslated hardware doorbell window (IOVA == phys, never
/// mapped); SwMsi is a window for software-managed MSI pages, not reserved.
/// </summary>
public sealed record ReservedRegion(AddrRange Range, ReservedRegionType Type, Prot Prot = Prot.Read | Prot.Write)
{
    public bool IsReservedInIovaSpace => Type != ReservedRegionType.SwMsi;
    public bool IsIdentityMapped => Type is ReservedRegionType.Direct or ReservedRegionType.DirectRelaxable;
    /// <summary>Never to appear in a page table (INV-03).</summary>
    public bool MustNeverBeMapped => Type is ReservedRegionType.Msi or ReservedRegionType.Reserved;
    /// <summary>Closed to user mappings of an unmanaged domain: VFIO type1 and iommufd cut every
    /// reported region but DirectRelaxable out of the usable IOVA (vfio_iommu_resv_exclude,
    /// iopt_table_enforce_dev_resv_regions), so a map over one fails.</summary>
    public bool ClosedToUserMappings => Type != ReservedRegionType.DirectRelaxable;

    public override string ToString() => $"{Type} {Range}";
}
