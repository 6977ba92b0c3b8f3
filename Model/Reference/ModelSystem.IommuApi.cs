using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>iommu_map / iommu_unmap on unmanaged (VFIO-like) domains
/// (docs/linux-facts.md#iommu_map-and-iommu_unmap).</summary>
public sealed partial class ModelSystem
{
    /// <summary>The IOMMUs whose regions bind a domain: its own and those of attached devices.</summary>
    private IEnumerable<IommuConfig> IommusOf(ModelDomain domain) =>
        _state.DevicesIn(domain.Id).Select(d => _index.Device(d.Id)!.Iommu).OfType<int>().Append(domain.Iommu)
            .Distinct().Select(id => _index.Iommu(id)).OfType<IommuConfig>();

    private Outcome DoIommuMap(IommuMap op)
    {
        if (_state.Domain(op.Domain) is not ModelDomain domain) return Fail(DmaErrorKind.UnknownDomain, $"no domain {op.Domain}");
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
        if (domain.RunsOverlapping(iovaRange).FirstOrDefault() is PageRun live)
            return Fail(DmaErrorKind.AddressInUse, $"{iovaRange} overlaps the live mapping {live.LeafAt(Math.Max(iovaRange.Start, live.Iova))}");
        MapLeaves(domain.Id, op.Iova.Value, op.Phys.Value, op.Size, op.Prot & (Prot.Read | Prot.Write));
        return Done.Instance;
    }

    /// <summary>Removes leaves from <c>iova</c> on until <c>size</c> bytes are gone or a hole is
    /// hit; a leaf is always removed whole (partial unmap of a large page removes all of it and
    /// counts its full size). Unaligned requests unmap nothing. The IOTLB is synced at once.</summary>
    private Outcome DoIommuUnmap(IommuUnmap op)
    {
        if (_state.Domain(op.Domain) is not ModelDomain domain) return Fail(DmaErrorKind.UnknownDomain, $"no domain {op.Domain}");
        if (domain.Type != DomainType.Unmanaged)
            return Fail(DmaErrorKind.WrongDomainType, $"domain {domain.Id} is {domain.Type}; iommu_unmap is for unmanaged domains");
        if (op.Size == 0 || ((op.Iova.Value | op.Size) & (domain.Granule - 1)) != 0) return new Unmapped(0);
        ulong unmapped = 0, cursor = op.Iova.Value;
        while (unmapped < op.Size)
        {
            if (Dom(domain.Id).RunAt(cursor) is not PageRun run) break;
            // Whole leaves, one after the other, until enough bytes are gone: as many pages of
            // this run as it takes (at least the one holding the cursor).
            ulong first = run.PageIndex(cursor);
            ulong wanted = (op.Size - unmapped + run.PageSize - 1) / run.PageSize;
            ulong pages = Math.Min(run.Count - first, Math.Max(1, wanted));
            var gone = run.Slice(first, pages);
            ClearLeaves(domain.Id, gone.Range);
            InvalidateIotlb(domain.Id, gone.Range);
            UInt128 total = (UInt128)unmapped + (UInt128)pages * run.PageSize;
            unmapped = total > ulong.MaxValue ? ulong.MaxValue : (ulong)total;
            if (gone.Last == ulong.MaxValue) break;
            cursor = gone.Last + 1;
        }
        return new Unmapped(unmapped);
    }
}
