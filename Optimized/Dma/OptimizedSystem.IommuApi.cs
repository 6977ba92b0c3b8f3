using DmaVerify.Contracts;

namespace DmaVerify.Optimized.Dma;

/// <summary>iommu_map / iommu_unmap on unmanaged domains, straight onto the page table.</summary>
public sealed partial class OptimizedSystem
{
    private Outcome DoIommuMap(IommuMap op)
    {
        if (DomainOf(op.Domain) is not Dom domain) return Fail(DmaErrorKind.UnknownDomain, $"no domain {op.Domain}");
        if (domain.Type != DomainType.Unmanaged) return Fail(DmaErrorKind.WrongDomainType, $"domain {domain.Id} is {domain.Type}");
        ulong granule = domain.Granule;
        if (op.Size == 0) return Fail(DmaErrorKind.InvalidArgument, "size 0");
        if (((op.Iova.Value | op.Phys.Value | op.Size) & (granule - 1)) != 0) return Fail(DmaErrorKind.Unaligned, "unaligned");
        if (!AddrRange.TryFromLength(op.Iova.Value, op.Size, out var iovaRange) || !AddrRange.TryFromLength(op.Phys.Value, op.Size, out var physRange))
            return Fail(DmaErrorKind.Overflow, "wraps past 2^64");
        if ((op.Prot & (Prot.Read | Prot.Write)) == 0) return Fail(DmaErrorKind.InvalidArgument, "prot grants neither read nor write");
        if (!domain.Aperture.Contains(iovaRange) || iovaRange.Last > domain.Format.MaxInput) return Fail(DmaErrorKind.OutOfRange, "outside the aperture");
        if (physRange.Last > domain.Format.MaxOutput) return Fail(DmaErrorKind.OutOfRange, "beyond the output range");
        foreach (var region in IommusOf(domain).SelectMany(i => i.Regions).Where(r => r.ClosedToUserMappings))
            if (region.Range.Overlaps(iovaRange)) return Fail(DmaErrorKind.ReservedRange, $"overlaps the {region.Type} region {region.Range}");
        if (MapLeaves(domain, op.Iova.Value, op.Phys.Value, op.Size, op.Prot & (Prot.Read | Prot.Write)) is Failed failed) return failed;
        return Done.Instance;
    }

    private Outcome DoIommuUnmap(IommuUnmap op)
    {
        if (DomainOf(op.Domain) is not Dom domain) return Fail(DmaErrorKind.UnknownDomain, $"no domain {op.Domain}");
        if (domain.Type != DomainType.Unmanaged) return Fail(DmaErrorKind.WrongDomainType, $"domain {domain.Id} is {domain.Type}");
        if (op.Size == 0 || ((op.Iova.Value | op.Size) & (domain.Granule - 1)) != 0) return new Unmapped(0);
        ulong unmapped = 0, cursor = op.Iova.Value;
        while (unmapped < op.Size)
        {
            if (domain.Table.Translate(cursor) is not { } t) break;
            domain.Table.Unmap(t.LeafIova, t.LeafSize);
            var leafRange = AddrRange.FromLength(t.LeafIova, t.LeafSize);
            InvalidateIotlb(domain, leafRange);
            unmapped = t.LeafSize > ulong.MaxValue - unmapped ? ulong.MaxValue : unmapped + t.LeafSize;
            if (leafRange.Last == ulong.MaxValue) break;
            cursor = leafRange.Last + 1;
        }
        return new Unmapped(unmapped);
    }
}
