using System.Collections.Immutable;
using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>Probe time: every device gets its masks and a default domain; DMA domains get their
/// reserved ranges and the 1:1 mappings of direct regions.</summary>
public sealed partial class ModelSystem
{
    private ModelState BuildInitialState()
    {
        var devices = ImmutableArray.CreateBuilder<ModelDevice>(_index.DeviceIds.Length);
        foreach (int id in _index.DeviceIds)
        {
            var config = _index.Device(id)!;
            var iommu = _index.IommuOf(config);
            devices.Add(new ModelDevice(id, config.DmaMask, config.CoherentMask, config.BusDmaLimit, Domain: null,
                Pci32First: config.IsPci && iommu is { Kind.HasPagingDomains: true }, DdwActive: false));
        }
        _state = new ModelState { Platform = _index, Devices = devices.MoveToImmutable() };

        foreach (int id in _index.DeviceIds)
        {
            var config = _index.Device(id)!;
            if (_index.IommuOf(config) is not IommuConfig iommu) continue;
            if (StaysOutsideTheUnit(config, iommu)) continue;
            int domain = SharedDefaultPeer(config, iommu)?.Domain ?? NewDomain(iommu, DefaultDomainTypeFor(config, iommu));
            SetDevice(Dev(id) with { Domain = domain });
            PrepareDomainForDevice(domain, config);
        }
        return _state;
    }

    /// <summary>An already-probed device whose default domain this device shares: a GART has one
    /// domain for every device; presets may declare VCM-style shared page tables.</summary>
    private ModelDevice? SharedDefaultPeer(DeviceConfig config, IommuConfig iommu)
    {
        IEnumerable<int> peers = iommu.Kind == IommuKind.Gart
            ? Platform.Devices.Where(d => d.Iommu == iommu.Id).Select(d => d.Id)
            : Platform.SharedDefaultDomains.FirstOrDefault(set => set.Contains(config.Id)) ?? [];
        return peers.Where(id => id != config.Id).Select(id => _state.Device(id))
            .FirstOrDefault(d => d?.Domain is not null);
    }

    /// <summary>A virtio device without ACCESS_PLATFORM behind a GART or TCE unit: those units
    /// have no identity domain, and the virtio host ignores the IOMMU for such a device
    /// (virtio_ring.c, vring_use_dma_api: "pretend that the IOMMU isn't there"), so it joins no
    /// domain and uses physical addresses (docs/model-semantics.md).</summary>
    private static bool StaysOutsideTheUnit(DeviceConfig config, IommuConfig iommu) =>
        config.BypassesIommu && iommu.Kind.HasBitmapWindow;

    private static DomainType DefaultDomainTypeFor(DeviceConfig config, IommuConfig iommu)
    {
        if (iommu.Kind.HasBitmapWindow) return DomainType.Dma;
        if (config.BypassesIommu) return DomainType.Identity;
        if (config.Untrusted) return DomainType.Dma;
        return iommu.DefaultDomainType;
    }

    /// <summary>A fresh domain of an IOMMU; returns its id. GART and TCE domains use a bitmap
    /// allocator over their window; paging domains start allocating at max(granule, aperture start).</summary>
    private int NewDomain(IommuConfig iommu, DomainType type, bool isDefault = true)
    {
        var format = iommu.Format;
        bool bitmap = iommu.Kind.HasBitmapWindow;
        var domain = new ModelDomain
        {
            Id = _state.NextDomainId,
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
        PutDomain(domain, created: true);
        return domain.Id;
    }

    /// <summary>What joining a DMA domain brings (dma-iommu's iova_reserve_iommu_regions and the
    /// core's direct mappings): the device's IOMMU regions reserved in IOVA space, the PCI host
    /// windows for PCI devices, and direct regions mapped 1:1. Returns an error when existing
    /// allocations or leaves conflict with them; the caller rolls back.</summary>
    private Failed? PrepareDomainForDevice(int domainId, DeviceConfig config)
    {
        var domain = Dom(domainId);
        if (!domain.IsDmaApi || _index.IommuOf(config) is not IommuConfig iommu) return null;
        if (iommu.Kind.HasBitmapWindow) return null;
        ulong granule = domain.Granule;
        var wanted = new List<ReservedIova>();
        foreach (var region in iommu.Regions.Where(r => r.IsReservedInIovaSpace))
            wanted.Add(new ReservedIova(AlignOutward(region.Range, granule), $"{region.Type} region of IOMMU {iommu.Id}"));
        if (config.IsPci)
            foreach (var window in iommu.PciHostWindows)
                wanted.Add(new ReservedIova(AlignOutward(window, granule), $"PCI host window of IOMMU {iommu.Id}"));
        foreach (var r in wanted)
        {
            if (Dom(domainId).Reserved.Any(x => x.Range == r.Range)) continue;
            var clash = Dom(domainId).Occupied.Overlapping(r.Range).FirstOrDefault(e => e.Value is not null);
            if (clash.Value is AllocationOwner owner)
                return Fail(DmaErrorKind.IncompatibleDomain, $"domain {domainId} has {owner} allocation {clash.Range} inside {r.Reason} {r.Range}");
            AddReserved(domainId, r);
        }
        foreach (var region in iommu.Regions.Where(r => r.IsIdentityMapped))
        {
            var range = AlignOutward(region.Range, granule);
            var wantedRuns = PageRun.For(domain.Format.PageSizes, range.Start, range.Start, (ulong)range.Size, region.Prot & (Prot.Read | Prot.Write));
            foreach (var run in wantedRuns)
                if (MapIdentityRun(domainId, run, region.Range) is Failed conflict) return conflict;
        }
        return null;
    }

    /// <summary>Maps the leaves of a direct region's run that are not mapped yet; a leaf already
    /// there must translate 1:1 (another device's copy of the region), anything else conflicts.</summary>
    private Failed? MapIdentityRun(int domainId, PageRun run, AddrRange region)
    {
        ulong page = 0;
        while (page < run.Count)
        {
            ulong iova = run.Iova + page * run.PageSize;
            var existing = Dom(domainId).LeafAt(iova);
            if (existing is not null)
            {
                if (existing.Iova != existing.Phys)
                    return Fail(DmaErrorKind.IncompatibleDomain, $"domain {domainId} maps {existing} over the direct region {region}");
                page++; // already translates 1:1
                continue;
            }
            // The free pages up to the next mapped leaf go in as one run.
            ulong free = run.Count - page;
            if (Dom(domainId).Leaves.TryCeiling(iova, out var next) && next.Start <= run.Last)
                free = Math.Min(free, (next.Start - iova + run.PageSize - 1) / run.PageSize);
            AddLeaves(domainId, [run.Slice(page, free)]);
            page += free;
        }
        return null;
    }

    private static AddrRange AlignOutward(AddrRange range, ulong granule) =>
        new(IovaSpace.AlignDown(range.Start, granule), range.Last | (granule - 1));
}
