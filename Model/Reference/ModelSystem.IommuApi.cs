using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>iommu_map / iommu_unmap on unmanaged (VFIO-like) domains (reference notes §3.5).</summary>
public sealed partial class ModelSystem
{
    /// <summary>The IOMMUs whose regions bind a domain: its own and those of attached devices.</summary>
    private IEnumerable<IommuConfig> IommusOf(DomainState domain) =>
        State.DevicesIn(domain.Id).Select(d => Platform.Device(d.Id)!.Iommu).OfType<int>().Append(domain.Iommu)
            .Distinct().Select(id => Platform.Iommu(id)).OfType<IommuConfig>();

    private Outcome DoIommuMap(IommuMap op)
    {
        if (State.Domain(op.Domain) is not DomainState domain) return Fail(DmaErrorKind.UnknownDomain, $"no domain {op.Domain}");
        if (domain.Type != DomainType.Unmanaged)
            return Fail(DmaErrorKind.WrongDomainType, $"domain {domain.Id} is {domain.Type}; iommu_map is for unmanaged domains (DMA domains belong to the DMA API)");
        ulong granule = domain.Granule;
        if (op.Size == 0) return Fail(DmaErrorKind.InvalidArgument, "size 0");
        if (((op.Iova.Value | op.Phys.Value | op.Size) & (granule - 1)) != 0)
            return Fail(DmaErrorKind.Unaligned, $"unaligned: iova {op.Iova} pa {op.Phys} size {Hex.Format(op.Size)} min_pagesz {Hex.Format(granule)}");
        if (!AddrRange.TryFromLength(op.Iova.Value, op.Size, out var iovaRange) || !AddrRange.TryFromLength(op.Phys.Value, op.Size, out var physRange))
            return Fail(DmaErrorKind.Overflow, $"iova {op.Iova} or pa {op.Phys} + {Hex.Format(op.Size)} wraps past 2^64");
        if ((op.Prot & (Prot.Read | Prot.Write)) == 0)
            return Fail(DmaErrorKind.InvalidArgument, $"prot {op.Prot} grants neither read nor write");
        if (!domain.Aperture.Contains(iovaRange) || iovaRange.Last > domain.Format.MaxInput)
            return Fail(DmaErrorKind.OutOfRange, $"{iovaRange} is outside the domain's aperture {domain.Aperture}");
        if (physRange.Last > domain.Format.MaxOutput)
            return Fail(DmaErrorKind.OutOfRange, $"{physRange} is beyond the page table's {domain.Format.OutputBits}-bit output");
        // The op is the user map of VFIO / iommufd (IOMMU_IOAS_MAP), which refuse IOVA over
        // any reported region but a relaxable direct one; raw in-kernel iommu_map checks none.
        foreach (var region in IommusOf(domain).SelectMany(i => i.Regions).Where(r => r.ClosedToUserMappings))
            if (region.Range.Overlaps(iovaRange))
                return Fail(DmaErrorKind.ReservedRange, $"{iovaRange} overlaps the {region.Type} region {region.Range}, which is reserved IOVA for user mappings");
        if (LeavesOverlapping(domain, iovaRange).FirstOrDefault() is Leaf live)
            return Fail(DmaErrorKind.AddressInUse, $"{iovaRange} overlaps the live mapping {live}");
        foreach (var leaf in DmaRules.LeavesFor(domain.Format.PageSizes, op.Iova.Value, op.Phys.Value, op.Size, op.Prot & (Prot.Read | Prot.Write)))
            AddLeaf(domain, leaf);
        return Done.Instance;
    }

    /// <summary>Removes leaves from <c>iova</c> on until <c>size</c> bytes are gone or a hole is
    /// hit; a leaf is always removed whole (partial unmap of a large page removes all of it and
    /// counts its full size). Unaligned requests unmap nothing. The IOTLB is synced at once.</summary>
    private Outcome DoIommuUnmap(IommuUnmap op)
    {
        if (State.Domain(op.Domain) is not DomainState domain) return Fail(DmaErrorKind.UnknownDomain, $"no domain {op.Domain}");
        if (domain.Type != DomainType.Unmanaged)
            return Fail(DmaErrorKind.WrongDomainType, $"domain {domain.Id} is {domain.Type}; iommu_unmap is for unmanaged domains");
        if (op.Size == 0 || ((op.Iova.Value | op.Size) & (domain.Granule - 1)) != 0) return new Unmapped(0);
        ulong unmapped = 0, cursor = op.Iova.Value;
        while (unmapped < op.Size)
        {
            if (LeafAt(domain, cursor) is not Leaf leaf) break;
            RemoveLeaf(domain, leaf);
            InvalidateIotlb(domain, leaf.Range);
            unmapped = leaf.Size > ulong.MaxValue - unmapped ? ulong.MaxValue : unmapped + leaf.Size;
            if (leaf.Range.Last == ulong.MaxValue) break;
            cursor = leaf.Range.Last + 1;
        }
        return new Unmapped(unmapped);
    }
}
