using DmaVerify.Contracts;
using DmaVerify.Optimized.Iova;
using DmaVerify.Optimized.PageTables;

namespace DmaVerify.Optimized.Dma;

/// <summary>Probe, domains and device configuration: AllocDomain, Attach, SetDomainType, SetMask.</summary>
public sealed partial class OptimizedSystem
{
    private void BuildInitialState()
    {
        foreach (var config in Platform.Devices.OrderBy(d => d.Id))
        {
            var iommu = IommuOf(config);
            _devices[config.Id] = new Dev
            {
                Config = config, DmaMask = config.DmaMask, CoherentMask = config.CoherentMask, BusDmaLimit = config.BusDmaLimit,
                Pci32First = config.IsPci && iommu is { Kind.HasPagingDomains: true },
            };
        }
        foreach (var device in _devices.Values.OrderBy(d => d.Id))
        {
            device.Ops = OpsFor(device, null);
            var config = device.Config;
            if (IommuOf(config) is not IommuConfig iommu) continue;
            // Virtio without ACCESS_PLATFORM behind GART/TCE: no identity domain there, so none at all.
            if (config.BypassesIommu && iommu.Kind.HasBitmapWindow) continue;
            IEnumerable<int> peers = iommu.Kind == IommuKind.Gart
                ? Platform.Devices.Where(d => d.Iommu == iommu.Id).Select(d => d.Id)
                : Platform.SharedDefaultDomains.FirstOrDefault(set => set.Contains(config.Id)) ?? [];
            var sharer = peers.Where(id => id != config.Id).Select(id => _devices[id]).FirstOrDefault(d => d.Domain is not null);
            var domain = sharer is not null ? _domains[sharer.Domain!.Value] : NewDomain(iommu, DefaultDomainTypeFor(config, iommu), true)!;
            device.Domain = domain.Id;
            device.Ops = OpsFor(device, domain);
            PrepareDomainForDevice(domain, config);
        }
    }

    private static DomainType DefaultDomainTypeFor(DeviceConfig config, IommuConfig iommu)
    {
        if (iommu.Kind.HasBitmapWindow) return DomainType.Dma;
        if (config.BypassesIommu) return DomainType.Identity;
        if (config.Untrusted) return DomainType.Dma;
        return iommu.DefaultDomainType;
    }

    /// <summary>A fresh domain with its page table (null when the top table page cannot be had).</summary>
    private Dom? NewDomain(IommuConfig iommu, DomainType type, bool isDefault)
    {
        var format = iommu.Format;
        bool bitmap = iommu.Kind.HasBitmapWindow;
        var table = PageTableFactory.TryCreate(format, new PageTableOptions
        {
            Allocator = _tablePages,
            Plant = Options.Plant,
            IovaBase = bitmap ? iommu.ApertureStart : 0,
            LeafPageArray = format.Format == PageTableFormatKind.AmdV1,
        });
        if (table is null) return null;
        ulong allocStart = iommu.Kind == IommuKind.Gart
            ? iommu.ApertureStart
            : Math.Max(format.Granule, Pow2Math.AlignUp(iommu.ApertureStart, format.Granule));
        var domain = new Dom
        {
            Id = _nextDomainId, Iommu = iommu.Id, Type = type, Format = format, Aperture = iommu.Aperture,
            ForceAperture = iommu.ForceAperture, IsDefault = isDefault,
            Policy = bitmap ? IovaPolicy.PageGranular : IovaPolicy.SizeAligned,
            AllocStart = allocStart, Table = table,
            Iova = bitmap ? null : NewIovaAllocator(allocStart >> format.GranuleShift, format.GranuleShift),
            Window = bitmap ? NewWindow(allocStart, iommu.Aperture, format) : null,
            MsiBump = iommu.Regions.FirstOrDefault(r => r.Type == ReservedRegionType.SwMsi)?.Range.Start ?? 0,
        };
        int id = _nextDomainId++;
        _domains[id] = domain;
        OnUndo(() => { _domains.Remove(id); _nextDomainId = id; });
        return domain;
    }

    /// <summary>The granule spans a GART/TCE domain allocates from: the aperture from its first
    /// allocatable granule (null when not even one granule fits above address 0).</summary>
    private static SpanAllocator? NewWindow(ulong allocStart, AddrRange aperture, PageTableGeometry format)
    {
        ulong first = Pow2Math.AlignUp(Math.Max(allocStart, aperture.Start), format.Granule, out bool overflow);
        if (overflow || first == 0 || first > aperture.Last || aperture.Last - first < format.Granule - 1) return null;
        return new SpanAllocator(first, aperture.Last, format.GranuleShift);
    }

    /// <summary>The domain's allocator from the options' factory; one that cannot copy itself is
    /// wrapped so snapshots can rebuild it by replaying its calls.</summary>
    private IIovaAllocator NewIovaAllocator(ulong startPfn, int granuleShift)
    {
        var factory = Options.IovaAllocator;
        var allocator = factory(startPfn, granuleShift)
            ?? throw new InvalidOperationException($"the IOVA allocator factory of '{Options.Name}' returned null");
        if (allocator is CachedIovaAllocator cached) cached.Plant = Options.Plant;
        return allocator as ICloneableIovaAllocator ?? new ReplayedIovaAllocator(() => factory(startPfn, granuleShift), allocator);
    }

    private static AddrRange AlignOutward(AddrRange range, ulong granule) =>
        new(Pow2Math.AlignDown(range.Start, granule), range.Last | (granule - 1));

    /// <summary>The IOVA ranges a device's IOMMU keeps out of a DMA domain, widened to whole
    /// granules: the IOMMU's reserved regions and, behind a PCI host bridge, its windows.</summary>
    private static IEnumerable<ReservedIova> ReservationsFor(IommuConfig iommu, DeviceConfig config, ulong granule)
    {
        foreach (var region in iommu.Regions)
            if (region.IsReservedInIovaSpace)
                yield return new ReservedIova(AlignOutward(region.Range, granule), $"{region.Type} region of IOMMU {iommu.Id}");
        if (!config.IsPci) yield break;
        foreach (var window in iommu.PciHostWindows)
            yield return new ReservedIova(AlignOutward(window, granule), $"{PciWindowReason} of IOMMU {iommu.Id}");
    }

    /// <summary>Reserved ranges and 1:1 direct regions a DMA domain takes on for a device. All
    /// checks come before any change; the leaves are mapped (undoable), then the reservations.</summary>
    private Failed? PrepareDomainForDevice(Dom domain, DeviceConfig config, bool mapDirectRegions = true)
    {
        if (!domain.IsDmaApi || IommuOf(config) is not IommuConfig iommu) return null;
        if (iommu.Kind.HasBitmapWindow) return null;
        ulong granule = domain.Granule;
        var fresh = new List<ReservedIova>();
        foreach (var r in ReservationsFor(iommu, config, granule))
        {
            if (domain.Reserved.Any(x => x.Range == r.Range) || fresh.Any(x => x.Range == r.Range)) continue;
            var clash = AllocationsOverlapping(domain, r.Range).FirstOrDefault();
            if (clash is not null)
                return Fail(DmaErrorKind.IncompatibleDomain, $"domain {domain.Id} has {clash.Owner} allocation {clash.Range} inside {r.Reason} {r.Range}");
            fresh.Add(r);
        }
        var leaves = new List<Leaf>();
        foreach (var region in iommu.Regions.Where(r => r.IsIdentityMapped && mapDirectRegions))
        {
            var range = AlignOutward(region.Range, granule);
            var prot = region.Prot & (Prot.Read | Prot.Write);
            ulong pageSizes = domain.Format.PageSizes;
            ulong iova = range.Start, remaining = (ulong)range.Size;
            for (ulong page; remaining != 0; iova += page, remaining -= page)
            {
                page = PageSizeRule.Choose(pageSizes, iova, iova, remaining);
                if (page == 0) break;
                var leaf = new Leaf(iova, iova, page, prot);
                if (domain.Table.Translate(leaf.Iova) is Translation t)
                {
                    if (t.Pa == leaf.Iova) continue;
                    return Fail(DmaErrorKind.IncompatibleDomain, $"domain {domain.Id} maps {Hex.Format(t.LeafIova)} over the direct region {region.Range}");
                }
                if (leaves.Any(l => l.Iova == leaf.Iova)) continue;
                leaves.Add(leaf);
            }
        }
        foreach (var leaf in leaves)
            if (MapLeaves(domain, leaf.Iova, leaf.Phys, leaf.Size, leaf.Prot) is Failed failed) return failed;
        // Linux reserves only at domain set-up; a range parked in a magazine is free to the
        // model, so it goes back to the tree before anything is reserved over it.
        if (fresh.Count > 0) domain.Iova?.FlushCaches();
        foreach (var r in fresh)
        {
            domain.Reserved.Add(r);
            OnUndo(() => domain.Reserved.Remove(r));
            ulong lo = r.Range.Start >> domain.Format.GranuleShift, hi = r.Range.Last >> domain.Format.GranuleShift;
            if (Planted(OptimizedPlant.ReserveDropsLastGranule) && hi > lo) hi--;
            if (Planted(OptimizedPlant.PciWindowsNotReserved) && r.Reason.StartsWith(PciWindowReason, StringComparison.Ordinal)) continue;
            domain.Iova?.Reserve(lo, hi);
        }
        return null;
    }

    private const string PciWindowReason = "PCI host window";

    private Outcome DoAllocDomain(AllocDomain op)
    {
        if (IommuById(op.Iommu) is not IommuConfig iommu)
            return Fail(DmaErrorKind.InvalidArgument, $"no IOMMU {op.Iommu} on preset {Platform.Preset}");
        if (!iommu.Kind.HasPagingDomains)
            return Fail(DmaErrorKind.Unsupported, $"IOMMU {op.Iommu} ({iommu.Kind}) has no separate domains");
        if (op.Type is not (DomainType.Unmanaged or DomainType.Blocked or DomainType.Identity))
            return Fail(DmaErrorKind.InvalidArgument, "alloc-domain makes unmanaged, blocked or identity domains");
        var domain = NewDomain(iommu, op.Type, isDefault: false);
        if (domain is null) return Fail(DmaErrorKind.OutOfMemory, "no page for the top table");
        return new DomainAllocated(domain.Id);
    }

    /// <summary>The domain types a device may not be given: a virtio device that bypasses the
    /// IOMMU is safe only under identity, an untrusted one gets no identity or lazy (FQ) domain,
    /// and a device with direct regions cannot be blocked.</summary>
    private static Failed? RefuseDomainFor(DeviceConfig config, IommuConfig iommu, DomainType type) =>
        config.BypassesIommu && type != DomainType.Identity
            ? Fail(DmaErrorKind.VirtioBypass, $"device {config.Id} bypasses the IOMMU; only an identity domain is safe ({type} refused)")
        : config.Untrusted && type is DomainType.Identity or DomainType.DmaFq
            ? Fail(DmaErrorKind.UntrustedPolicy, $"device {config.Id} is untrusted ({type} refused)")
        : type == DomainType.Blocked && iommu.Regions.Any(r => r.Type == ReservedRegionType.Direct)
            ? Fail(DmaErrorKind.RequireDirect, $"device {config.Id} has direct regions; a blocked domain is refused")
        : null;

    /// <summary>Moves a device to <paramref name="domain"/>; it is the last step of a
    /// successful op. When the device was the last one its IOMMU had in the old domain, that
    /// IOMMU's IOTLB entries for the old domain go: the IOMMU frees the domain id on detach and
    /// may give it to another domain, where a stale entry would translate.</summary>
    private void SetDeviceDomain(Dev device, int domain)
    {
        int? old = device.Domain;
        var oldOps = device.Ops;
        device.Domain = domain;
        device.Ops = OpsFor(device, DomainOf(domain));
        OnUndo(() => (device.Domain, device.Ops) = (old, oldOps));
        if (old is not int oldId || oldId == domain || device.Config.Iommu is not int unit || DomainOf(oldId) is not Dom left) return;
        if (_devices.Values.Any(d => d.Domain == oldId && d.Config.Iommu == unit)) return;
        foreach (var key in left.Iotlb.Keys.Where(k => k.Iommu == unit).ToList())
            left.Iotlb.Remove(key);
    }

    private Outcome DoAttach(Attach op)
    {
        if (!TryDevice(op.Device, out var device, out var error)) return error!;
        var config = device.Config;
        if (IommuOf(config) is not IommuConfig iommu) return Fail(DmaErrorKind.NoIommu, $"device {op.Device} is not behind an IOMMU");
        if (!iommu.Kind.HasPagingDomains) return Fail(DmaErrorKind.Unsupported, $"{iommu.Kind} devices cannot change domain");
        if (DomainOf(op.Domain) is not Dom domain) return Fail(DmaErrorKind.UnknownDomain, $"no domain {op.Domain}");
        if (!domain.Format.Equals(iommu.Format))
            return Fail(DmaErrorKind.IncompatibleDomain, $"domain {domain.Id} uses {domain.Format.Describe()}, IOMMU {iommu.Id} walks {iommu.Format.Describe()}");
        if (device.Domain == domain.Id) return Done.Instance;
        if (device.Mappings.Count > 0) return Fail(DmaErrorKind.Busy, $"device {op.Device} has live DMA mappings");
        if (RefuseDomainFor(config, iommu, domain.Type) is Failed refused) return refused;
        if (PrepareDomainForDevice(domain, config) is Failed conflict) return conflict;
        SetDeviceDomain(device, domain.Id);
        return Done.Instance;
    }

    private Outcome DoSetDomainType(SetDomainType op)
    {
        if (!TryDevice(op.Device, out var device, out var error)) return error!;
        var config = device.Config;
        if (IommuOf(config) is not IommuConfig iommu) return Fail(DmaErrorKind.NoIommu, $"device {op.Device} is not behind an IOMMU");
        if (!iommu.Kind.HasPagingDomains) return Fail(DmaErrorKind.Unsupported, $"{iommu.Kind} has no selectable domain types");
        if (op.Type is not (DomainType.Identity or DomainType.Dma or DomainType.DmaFq))
            return Fail(DmaErrorKind.InvalidArgument, $"a group type is identity, dma or dma-fq, not {op.Type}");
        if (RefuseDomainFor(config, iommu, op.Type) is Failed refused) return refused;
        var current = DomainOf(device.Domain);
        if (current is { Type: DomainType.Dma, IsDefault: true } && op.Type == DomainType.DmaFq)
        {
            if (_devices.Values.Any(d => d.Domain == current.Id && d.Config.Untrusted))
                return Fail(DmaErrorKind.UntrustedPolicy, $"domain {current.Id} serves an untrusted device; it stays strict");
            current.Type = DomainType.DmaFq;
            OnUndo(() => current.Type = DomainType.Dma);
            return Done.Instance;
        }
        if (current is not null && current.Type == op.Type && current.IsDefault) return Done.Instance;
        if (device.Mappings.Count > 0) return Fail(DmaErrorKind.Busy, $"device {op.Device} has live DMA mappings");
        var domain = NewDomain(iommu, op.Type, isDefault: true);
        if (domain is null) return Fail(DmaErrorKind.OutOfMemory, "no page for the top table");
        if (PrepareDomainForDevice(domain, config, !Planted(OptimizedPlant.DirectRegionsNotMappedOnTypeChange)) is Failed conflict) return conflict;
        SetDeviceDomain(device, domain.Id);
        return new DomainAllocated(domain.Id);
    }

    private Outcome DoSetMask(SetMask op)
    {
        if (!TryDevice(op.Device, out var device, out var error)) return error!;
        if (!DeviceConfig.IsValidMask(op.Mask) || !DeviceConfig.IsValidMask(op.CoherentMask))
            return Fail(DmaErrorKind.Unsupported, $"masks must be DMA_BIT_MASK(n) with 24 ≤ n ≤ 64");
        var (mask, coherent, ddw, bus) = (device.DmaMask, device.CoherentMask, device.DdwActive, device.BusDmaLimit);
        if (IommuOf(device.Config)?.Tce is TceConfig tce)
        {
            if (op.Mask < tce.DefaultWindow.Last)
                return Fail(DmaErrorKind.Unsupported, $"mask {Hex.Format(op.Mask)} cannot reach the default TCE window {tce.DefaultWindow}");
            device.DdwActive = op.Mask == ulong.MaxValue;
            device.BusDmaLimit = device.DdwActive ? tce.DirectLimit - 1 : device.Config.BusDmaLimit;
        }
        device.DmaMask = op.Mask;
        device.CoherentMask = op.CoherentMask;
        OnUndo(() => (device.DmaMask, device.CoherentMask, device.DdwActive, device.BusDmaLimit) = (mask, coherent, ddw, bus));
        return Done.Instance;
    }
}
