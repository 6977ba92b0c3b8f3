using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>Probe time: every device gets its masks and a default domain; DMA domains get their
/// reserved ranges and the 1:1 mappings of direct regions.</summary>
public sealed partial class ModelSystem
{
    private void BuildInitialState()
    {
        _undo = new UndoLog();
        foreach (var config in Platform.Devices.OrderBy(d => d.Id))
        {
            var iommu = config.Iommu is int i ? Platform.Iommu(i) : null;
            State.Devices.Add(new DeviceState
            {
                Id = config.Id,
                DmaMask = config.DmaMask,
                CoherentMask = config.CoherentMask,
                BusDmaLimit = config.BusDmaLimit,
                Pci32First = config.IsPci && iommu is { Kind: IommuKind.VtD or IommuKind.AmdVi or IommuKind.ArmSmmu },
            });
        }

        foreach (var device in State.Devices)
        {
            var config = Platform.Device(device.Id)!;
            if (config.Iommu is not int iommuId || Platform.Iommu(iommuId) is not IommuConfig iommu) continue;
            if (StaysOutsideTheUnit(config, iommu)) continue;
            var sharer = SharedDefaultPeer(config, iommu);
            if (sharer is not null)
            {
                device.Domain = sharer.Domain;
                PrepareDomainForDevice(State.Domain(sharer.Domain!.Value)!, config);
                continue;
            }
            var domain = NewDefaultDomain(iommu, DefaultDomainTypeFor(config, iommu));
            device.Domain = domain.Id;
            PrepareDomainForDevice(domain, config);
        }
        _undo = new UndoLog(); // probe-time state is the starting point, never rolled back
    }

    /// <summary>An already-probed device whose default domain this device shares: a GART has one
    /// domain for every device; presets may declare VCM-style shared page tables.</summary>
    private DeviceState? SharedDefaultPeer(DeviceConfig config, IommuConfig iommu)
    {
        IEnumerable<int> peers = iommu.Kind == IommuKind.Gart
            ? Platform.Devices.Where(d => d.Iommu == iommu.Id).Select(d => d.Id)
            : Platform.SharedDefaultDomains.FirstOrDefault(set => set.Contains(config.Id)) ?? [];
        return peers.Where(id => id != config.Id).Select(id => State.Device(id))
            .FirstOrDefault(d => d?.Domain is not null);
    }

    /// <summary>A virtio device without ACCESS_PLATFORM behind a GART or TCE unit: those units
    /// have no identity domain, and the virtio host ignores the IOMMU for such a device
    /// (virtio_ring.c, vring_use_dma_api: "pretend that the IOMMU isn't there"), so it joins no
    /// domain and uses physical addresses (docs/model-semantics.md).</summary>
    private static bool StaysOutsideTheUnit(DeviceConfig config, IommuConfig iommu) =>
        config.BypassesIommu && iommu.Kind is IommuKind.Gart or IommuKind.Tce;

    private static DomainType DefaultDomainTypeFor(DeviceConfig config, IommuConfig iommu)
    {
        if (iommu.Kind is IommuKind.Gart or IommuKind.Tce) return DomainType.Dma;
        if (config.BypassesIommu) return DomainType.Identity;
        if (config.Untrusted) return DomainType.Dma;
        return iommu.DefaultDomainType;
    }

    private int NextDomainId() => State.Domains.Count == 0 ? 0 : State.Domains.Max(d => d.Id) + 1;

    /// <summary>A fresh domain of an IOMMU. GART and TCE domains use a bitmap allocator over
    /// their window; paging domains start allocating at max(granule, aperture start).</summary>
    private DomainState NewDefaultDomain(IommuConfig iommu, DomainType type, bool isDefault = true)
    {
        var format = iommu.Format;
        bool bitmap = iommu.Kind is IommuKind.Gart or IommuKind.Tce;
        var domain = new DomainState
        {
            Id = NextDomainId(),
            Iommu = iommu.Id,
            Type = type,
            Format = format,
            Aperture = iommu.Aperture,
            ForceAperture = iommu.ForceAperture,
            Policy = bitmap ? IovaPolicy.PageGranular : IovaPolicy.SizeAligned,
            AllocStart = iommu.Kind == IommuKind.Gart ? iommu.ApertureStart : Math.Max(format.Granule, IovaSpace.AlignUp(iommu.ApertureStart, format.Granule, out _)),
            IsDefault = isDefault,
            MsiBump = iommu.Regions.FirstOrDefault(r => r.Type == ReservedRegionType.SwMsi)?.Range.Start ?? 0,
        };
        AddDomain(domain);
        return domain;
    }

    /// <summary>What joining a DMA domain brings (dma-iommu's iova_reserve_iommu_regions and the
    /// core's direct mappings): the device's IOMMU regions reserved in IOVA space, the PCI host
    /// windows for PCI devices, and direct regions mapped 1:1. Returns an error when existing
    /// allocations or leaves conflict with them; the caller rolls back.</summary>
    private Failed? PrepareDomainForDevice(DomainState domain, DeviceConfig config)
    {
        if (!domain.IsDmaApi || config.Iommu is not int iommuId || Platform.Iommu(iommuId) is not IommuConfig iommu)
            return null;
        if (iommu.Kind is IommuKind.Gart or IommuKind.Tce) return null;
        ulong granule = domain.Granule;
        var wanted = new List<ReservedIova>();
        foreach (var region in iommu.Regions.Where(r => r.IsReservedInIovaSpace))
            wanted.Add(new ReservedIova(AlignOutward(region.Range, granule), $"{region.Type} region of IOMMU {iommu.Id}"));
        if (config.IsPci)
            foreach (var window in iommu.PciHostWindows)
                wanted.Add(new ReservedIova(AlignOutward(window, granule), $"PCI host window of IOMMU {iommu.Id}"));
        foreach (var r in wanted)
        {
            if (domain.Reserved.Any(x => x.Range == r.Range)) continue;
            var clash = domain.Allocations.FirstOrDefault(a => a.Range.Overlaps(r.Range));
            if (clash is not null)
                return Fail(DmaErrorKind.IncompatibleDomain, $"domain {domain.Id} has {clash.Owner} allocation {clash.Range} inside {r.Reason} {r.Range}");
            AddToList(domain.Reserved, r);
        }
        foreach (var region in iommu.Regions.Where(r => r.IsIdentityMapped))
        {
            var range = AlignOutward(region.Range, granule);
            foreach (var leaf in DmaRules.LeavesFor(domain.Format.PageSizes, range.Start, range.Start, (ulong)range.Size, region.Prot & (Prot.Read | Prot.Write)))
            {
                var existing = LeafAt(domain, leaf.Iova);
                if (existing is not null)
                {
                    if (existing.Iova == existing.Phys) continue; // already translates 1:1
                    return Fail(DmaErrorKind.IncompatibleDomain, $"domain {domain.Id} maps {existing} over the direct region {region.Range}");
                }
                AddLeaf(domain, leaf);
            }
        }
        return null;
    }

    private static AddrRange AlignOutward(AddrRange range, ulong granule) =>
        new(IovaSpace.AlignDown(range.Start, granule), range.Last | (granule - 1));
}
