using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>Single-buffer DMA-API maps (map, alloc_coherent, map_resource) and every unmap.</summary>
public sealed partial class ModelSystem
{
    /// <summary>How a device's DMA reaches memory right now.</summary>
    private enum Route { Direct, Blocked, Unmanaged, Iommu, Gart, Tce, VirtioBypass }

    private Route RouteOf(ModelDevice device, DeviceConfig config, out ModelDomain? domain)
    {
        domain = _state.DomainOf(device);
        if (config.BypassesIommu) return Route.VirtioBypass;
        var iommu = IommuOf(config);
        if (iommu is null || domain is null) return Route.Direct;
        if (iommu.Kind == IommuKind.Gart) return Route.Gart;
        if (iommu.Kind == IommuKind.Tce) return Route.Tce;
        return domain.Type switch
        {
            DomainType.Blocked => Route.Blocked,
            DomainType.Identity => Route.Direct,
            DomainType.Unmanaged => Route.Unmanaged,
            _ => Route.Iommu,
        };
    }

    /// <summary>The DMA limit of a device for a mask: min_not_zero(mask, bus limit), clamped to
    /// the aperture end when the domain forces it.</summary>
    private static ulong DmaLimit(ModelDevice device, ulong mask, ModelDomain? domain)
    {
        ulong limit = DmaRules.MinNotZero(mask, device.BusDmaLimit);
        if (domain is { ForceAperture: true, IsDmaApi: true }) limit = Math.Min(limit, domain.Aperture.Last);
        return limit;
    }

    /// <summary>Validation common to every single-buffer map. Returns the buffer range.</summary>
    private Failed? ValidateBuffer(ulong phys, ulong length, DmaDirection direction, bool mmio, out AddrRange buffer)
    {
        buffer = default;
        if (length == 0) return Fail(DmaErrorKind.InvalidArgument, "length 0");
        if (!AddrRange.TryFromLength(phys, length, out buffer))
            return Fail(DmaErrorKind.Overflow, $"buffer {Hex.Format(phys)}+{Hex.Format(length)} wraps past 2^64");
        if (direction == DmaDirection.None) return Fail(DmaErrorKind.InvalidArgument, "direction none (DMA_NONE) is not a mapping direction");
        if (mmio ? !_index.IsMmio(buffer) : !_index.IsRam(buffer))
            return mmio
                ? Fail(DmaErrorKind.NotMmio, $"{buffer} is not inside one MMIO range of {Platform.Preset}")
                : Fail(DmaErrorKind.NotRam, $"{buffer} is not inside one RAM range of {Platform.Preset}");
        return null;
    }

    private readonly record struct PieceRequest(ulong Phys, ulong Length, Prot Prot, ulong Mask, bool MayBounce, bool Mmio, ulong? ProposedDma, ulong? ProposedBounce, bool NoBypass = false);

    /// <summary>
    /// Maps one physically contiguous buffer along the device's route and returns the piece the
    /// device will use: bypass (dma = phys, or phys + DDW offset), a bounce slot, or an IOVA
    /// range with leaves.
    /// </summary>
    private Outcome MapPiece(ModelDevice device, DeviceConfig config, Route route, ModelDomain? domain, PieceRequest req, out MappingPart part)
    {
        part = null!;
        ulong busLimit = DmaRules.MinNotZero(req.Mask, device.BusDmaLimit);
        switch (route)
        {
            case Route.Blocked:
                return Fail(DmaErrorKind.DomainBlocked, $"device {device.Id} is in blocked domain {domain!.Id}");
            case Route.Unmanaged:
                return Fail(DmaErrorKind.WrongDomainType, $"device {device.Id} is in unmanaged domain {domain!.Id}; the DMA API does not map there");
            case Route.VirtioBypass:
                if (OverlapsRemappingAperture(req.Phys, req.Length) is AddrRange aperture)
                    return Fail(DmaErrorKind.VirtioBypass, $"device {device.Id} bypasses the IOMMU, but its buffer lies in the remapping aperture {aperture}");
                if (!DmaRules.DmaCapable(req.Phys, req.Length, req.Mask, device.BusDmaLimit))
                    return Fail(DmaErrorKind.NotCapable, $"buffer {Hex.Format(req.Phys)}+{Hex.Format(req.Length)} is beyond the DMA limit {Hex.Format(busLimit)}");
                part = Bypass(req.Phys, req.Length, req.Phys);
                return Done.Instance;
            case Route.Direct:
                return MapDirect(device, config, req, busLimit, out part);
            case Route.Gart:
                return MapGart(device, config, domain!, req, busLimit, out part);
            case Route.Tce:
                return MapTce(device, domain!, req, out part);
            default:
                return MapIommu(device, config, domain!, req, out part);
        }
    }

    private static MappingPart Bypass(ulong dma, ulong length, ulong phys, int? bounce = null) =>
        new() { Dma = dma, Length = length, Phys = phys, Bounce = bounce };

    private AddrRange? OverlapsRemappingAperture(ulong phys, ulong length)
    {
        var buffer = AddrRange.FromLength(phys, length);
        foreach (var aperture in _index.Apertures)
            if (aperture.Overlaps(buffer)) return aperture;
        return null;
    }

    /// <summary>dma-direct: dma = phys when capable and outside every GART aperture, else bounce
    /// through swiotlb (and the bounce address must qualify too), else an error. The aperture
    /// is decoded by the northbridge for every bus master, so a 1:1 bus address there would be
    /// remapped (docs/model-semantics.md, "dma-direct never hands out a bus address in a GART
    /// aperture").</summary>
    private Outcome MapDirect(ModelDevice device, DeviceConfig config, PieceRequest req, ulong busLimit, out MappingPart part)
    {
        part = null!;
        var aperture = OverlapsRemappingAperture(req.Phys, req.Length);
        if (aperture is null && DmaRules.DmaCapable(req.Phys, req.Length, req.Mask, device.BusDmaLimit))
        {
            part = Bypass(req.Phys, req.Length, req.Phys);
            return Done.Instance;
        }
        if (!req.MayBounce || Platform.SwiotlbPool is not AddrRange pool)
            return Fail(DmaErrorKind.NotCapable, DirectOverflow(device, req, aperture));
        if (req.Length > Swiotlb.MaxMappingSize)
            return Fail(DmaErrorKind.NoBounceBuffer, $"{DirectOverflow(device, req, aperture)}; {Hex.Format(req.Length)} bytes exceed the swiotlb maximum mapping size {Hex.Format(Swiotlb.MaxMappingSize)}");
        var request = new Swiotlb.Request(IovaSpace.AlignUp(req.Length, Swiotlb.SlotSize, out _), Swiotlb.SlotSize, busLimit, config.SegmentBoundaryMask);
        var span = ChooseBounce(pool, request, req.ProposedBounce);
        if (span is null)
        {
            bool anyIgnoringLimit = Placement.LowestBounce(_state, pool, request with { Limit = ulong.MaxValue }) is not null;
            return anyIgnoringLimit || pool.Start > busLimit
                ? Fail(DmaErrorKind.NotCapable, $"{DirectOverflow(device, req, aperture)}; no bounce slot below the limit either")
                : Fail(DmaErrorKind.NoBounceBuffer, $"{DirectOverflow(device, req, aperture)}; the swiotlb pool {pool} has no room for {Hex.Format(request.Bytes)} bytes");
        }
        var slot = AddBounce(new BounceSlot(NewBounceId(), device.Id, span.Value, req.Phys, span.Value.Start, req.Length, PaddingZeroed: false));
        part = Bypass(slot.BufferPhys, req.Length, slot.BufferPhys, slot.Id);
        return Done.Instance;
    }

    private static string DirectOverflow(ModelDevice device, PieceRequest req, AddrRange? aperture) => aperture is AddrRange remapped
        ? $"DMA addr {Hex.Format(req.Phys)}+{Hex.Format(req.Length)} lies in the GART aperture {remapped}, where bus addresses are remapped"
        : $"DMA addr {Hex.Format(req.Phys)}+{Hex.Format(req.Length)} overflow (mask {Hex.Format(req.Mask)}, bus limit {Hex.Format(device.BusDmaLimit)})";

    /// <summary>K8 GART: bypass when capable and outside the aperture, else remap through the
    /// aperture (bitmap allocation honouring the segment boundary; 40-bit physical addresses).</summary>
    private Outcome MapGart(ModelDevice device, DeviceConfig config, ModelDomain domain, PieceRequest req, ulong busLimit, out MappingPart part)
    {
        part = null!;
        bool inAperture = OverlapsRemappingAperture(req.Phys, req.Length) is not null;
        if (!inAperture && DmaRules.DmaCapable(req.Phys, req.Length, req.Mask, device.BusDmaLimit))
        {
            part = Bypass(req.Phys, req.Length, req.Phys);
            return Done.Instance;
        }
        if (req.Phys + (req.Length - 1) > GartConfig.MaxPhys)
            return Fail(DmaErrorKind.NotCapable, $"buffer {Hex.Format(req.Phys)}+{Hex.Format(req.Length)} is beyond the GART's 40-bit physical reach and the device's DMA limit");
        if (domain.Aperture.Start > busLimit)
            return Fail(DmaErrorKind.NotCapable, $"the GART aperture {domain.Aperture} is beyond device {device.Id}'s DMA limit {Hex.Format(busLimit)}");
        return MapThroughTable(device, config, domain, req, Math.Min(busLimit, domain.Aperture.Last), config.SegmentBoundaryMask, Prot.Read | Prot.Write, out part);
    }

    /// <summary>PowerPC: direct through the DDW when the buffer's end is below its limit, else
    /// through the default window's TCE table.</summary>
    private Outcome MapTce(ModelDevice device, ModelDomain domain, PieceRequest req, out MappingPart part)
    {
        part = null!;
        var tce = _index.Iommu(domain.Iommu)!.Tce!;
        if (device.DdwActive && !req.Mmio && !req.NoBypass && req.Phys <= ulong.MaxValue - tce.DdwOffset &&
            DmaRules.DmaCapable(req.Phys + tce.DdwOffset, req.Length, req.Mask, device.BusDmaLimit))
        {
            part = Bypass(req.Phys + tce.DdwOffset, req.Length, req.Phys);
            return Done.Instance;
        }
        if (req.Phys + (req.Length - 1) > domain.Format.MaxOutput)
            return Fail(DmaErrorKind.NotCapable, $"buffer {Hex.Format(req.Phys)}+{Hex.Format(req.Length)} is beyond the TCE real page number range");
        // The bus limit binds TCE mappings too (INV-05 records min_not_zero(mask, bus limit)):
        // an address the interconnect cannot carry is no better in a TCE window than anywhere.
        ulong limit = Math.Min(Planted(ModelPlant.TceIgnoresBusLimit) ? req.Mask : DmaRules.MinNotZero(req.Mask, device.BusDmaLimit), domain.Aperture.Last);
        var config = _index.Device(device.Id)!;
        return MapThroughTable(device, config, domain, req, limit, config.SegmentBoundaryMask, req.Prot, out part);
    }

    /// <summary>The bitmap-allocator path shared by GART and TCE: page-granular IOVA, 4 KiB leaves.</summary>
    private Outcome MapThroughTable(ModelDevice device, DeviceConfig config, ModelDomain domain, PieceRequest req, ulong limit, ulong boundary, Prot prot, out MappingPart part)
    {
        part = null!;
        ulong granule = domain.Granule;
        ulong offset = req.Phys % granule;
        // GART and TCE have no bounce path: an untrusted device's unaligned buffer would expose
        // its neighbours in the shared pages (INV-12), so it is refused, as dma-iommu refuses it
        // when bounce buffers are inactive.
        if (config.Untrusted && ((req.Phys | req.Length) & (granule - 1)) != 0 && !Planted(ModelPlant.UntrustedUnalignedThroughTable))
            return Fail(DmaErrorKind.NoBounceBuffer, $"device {device.Id} is untrusted and {Hex.Format(req.Phys)}+{Hex.Format(req.Length)} is not granule aligned; {domain.Format.Format} has no bounce buffers");
        ulong bytes = IovaSpace.AlignUp(offset + req.Length, granule, out _);
        var range = ChooseIova(device.Id, domain.Id, bytes, limit, boundary, req.ProposedDma is ulong d ? d - offset : null);
        if (range is null)
            return Fail(DmaErrorKind.OutOfIova, $"no room for {Hex.Format(bytes)} bytes in {domain.Aperture} below {Hex.Format(limit)} (domain {domain.Id})");
        InstallMapping(domain.Id, range.Value, range.Value.Start, req.Phys - offset, bytes, prot);
        part = new MappingPart { Dma = range.Value.Start + offset, Length = req.Length, Phys = req.Phys, Domain = domain.Id, Allocation = range };
        return Done.Instance;
    }

    /// <summary>dma-iommu: in-page offset kept, length rounded to granules, sub-granule buffers of
    /// untrusted devices bounced into whole zeroed granules first.</summary>
    private Outcome MapIommu(ModelDevice device, DeviceConfig config, ModelDomain domain, PieceRequest req, out MappingPart part)
    {
        part = null!;
        ulong granule = domain.Granule;
        ulong offset = req.Phys % granule;
        ulong bytes = IovaSpace.AlignUp(offset + req.Length, granule, out _);
        ulong mappedPhys = req.Phys - offset, reachedPhys = req.Phys;
        int? bounceId = null;
        bool unaligned = ((req.Phys | req.Length) & (granule - 1)) != 0;
        if (config.Untrusted && unaligned)
        {
            if (!req.MayBounce)
                return Fail(DmaErrorKind.Unaligned, $"device {device.Id} is untrusted and {Hex.Format(req.Phys)}+{Hex.Format(req.Length)} is not granule aligned; it cannot be bounced");
            if (Platform.SwiotlbPool is not AddrRange pool)
                return Fail(DmaErrorKind.NoBounceBuffer, "DMA bounce buffers are inactive, unable to map unaligned transaction");
            if (bytes > Swiotlb.MaxMappingSize)
                return Fail(DmaErrorKind.NoBounceBuffer, $"{Hex.Format(bytes)} bytes exceed the swiotlb maximum mapping size {Hex.Format(Swiotlb.MaxMappingSize)}");
            var request = new Swiotlb.Request(bytes, granule, ulong.MaxValue, ulong.MaxValue);
            var span = ChooseBounce(pool, request, req.ProposedBounce is ulong b ? b - offset : null);
            if (span is null)
                return Fail(DmaErrorKind.NoBounceBuffer, $"the swiotlb pool {pool} has no room for {Hex.Format(bytes)} bytes");
            var slot = AddBounce(new BounceSlot(NewBounceId(), device.Id, span.Value, req.Phys, span.Value.Start + offset, req.Length, PaddingZeroed: true));
            bounceId = slot.Id;
            mappedPhys = span.Value.Start;
            reachedPhys = slot.BufferPhys;
        }
        if (mappedPhys + (bytes - 1) > domain.Format.MaxOutput)
            return Fail(DmaErrorKind.OutOfRange, $"physical {Hex.Format(mappedPhys)}+{Hex.Format(bytes)} is beyond the page table's {domain.Format.OutputBits}-bit output");
        ulong limit = DmaLimit(device, req.Mask, domain);
        var range = ChooseIova(device.Id, domain.Id, bytes, limit, ulong.MaxValue, req.ProposedDma is ulong d ? d - offset : null);
        if (range is null)
            return Fail(DmaErrorKind.OutOfIova, $"no IOVA for {Hex.Format(bytes)} bytes below {Hex.Format(limit)} in domain {domain.Id}");
        InstallMapping(domain.Id, range.Value, range.Value.Start, mappedPhys + (Planted(ModelPlant.LeavesOffByOneGranule) ? granule : 0), bytes, req.Prot);
        part = new MappingPart { Dma = range.Value.Start + offset, Length = req.Length, Phys = reachedPhys, Domain = domain.Id, Allocation = range, Bounce = bounceId };
        return Done.Instance;
    }

    /// <summary>Records the IOVA allocation and installs leaves for [iova, iova+bytes) → phys.</summary>
    private void InstallMapping(int domainId, AddrRange allocation, ulong iova, ulong phys, ulong bytes, Prot prot)
    {
        if (Dom(domainId).AllocationAt(allocation) is null)
            AddAllocation(domainId, allocation, AllocationOwner.Mapping);
        MapLeaves(domainId, iova, phys, bytes, prot);
    }

    private DmaMapping Record(ModelDevice device, DeviceConfig config, MappingKind kind, ulong phys, ulong size, DmaDirection direction, ulong limit, List<MappingPart> parts,
        ValueList<SgEntry>? inputs = null, ValueList<DmaSegment>? segments = null)
    {
        var mapping = new DmaMapping
        {
            Id = NewMappingId(), Device = device.Id, Kind = kind, Dma = new DmaAddr(segments?.Count > 0 ? segments[0].Dma.Value : parts[0].Dma),
            Size = size, Direction = direction, Phys = new PhysAddr(phys), Nents = inputs?.Count ?? 1, Limit = limit,
            UntrustedDevice = config.Untrusted, Inputs = inputs ?? ValueList<SgEntry>.Empty, Segments = segments ?? ValueList<DmaSegment>.Empty,
            Parts = parts, MaxSegmentSize = config.MaxSegmentSize, SegmentBoundaryMask = config.SegmentBoundaryMask,
        };
        AddMapping(mapping);
        ForgetUnmapped(device.Id, mapping.Dma.Value);
        return mapping;
    }

    private Outcome MapSingle(int deviceId, MappingKind kind, ulong phys, ulong length, DmaDirection direction, bool coherent)
    {
        if (!TryDevice(deviceId, out var device, out var config, out var error)) return error!;
        bool mmio = kind == MappingKind.Resource;
        if (ValidateBuffer(phys, length, direction, mmio, out _) is Failed invalid) return invalid;
        if (coherent && phys % 4096 != 0)
            return Fail(DmaErrorKind.InvalidArgument, $"a coherent buffer is page aligned; {Hex.Format(phys)} is not");
        var route = RouteOf(device, config, out var domain);
        ulong mask = coherent ? device.CoherentMask : device.DmaMask;
        var req = new PieceRequest(phys, length, DmaRules.ProtFor(direction), mask, MayBounce: kind == MappingKind.Single, mmio, ProposedDma, ProposedBounce);
        var outcome = MapPiece(device, config, route, domain, req, out var part);
        if (!outcome.IsSuccess) return outcome;
        device = Dev(deviceId); // the map may have left 32-bit-first mode
        var mapping = Record(device, config, kind, phys, length, direction, DmaLimit(device, mask, part.IsBypass ? null : domain), [part]);
        var bounce = part.Bounce is int id ? _state.Bounces[id] : null;
        return new Mapped(mapping.Dma, bounce is null ? null : new PhysAddr(bounce.BufferPhys));
    }

    private Outcome DoMap(Map op) => MapSingle(op.Device, MappingKind.Single, op.Phys.Value, op.Length, op.Direction, coherent: false);

    private Outcome DoAllocCoherent(AllocCoherent op) =>
        MapSingle(op.Device, MappingKind.Coherent, op.Phys.Value, op.Size, DmaDirection.Bidirectional, coherent: true);

    private Outcome DoMapResource(MapResource op) => MapSingle(op.Device, MappingKind.Resource, op.Phys.Value, op.Length, op.Direction, coherent: false);

    /// <summary>
    /// The live mapping an unmap names. Several mappings may share a DMA address (bypassed
    /// buffers mapped twice); like dma-debug, the best match wins: the one agreeing on most of
    /// kind, size, sg count and direction, oldest first; the mapping a live handle names only
    /// breaks a tie.
    /// </summary>
    private DmaMapping? FindUnmapTarget(int device, AddressRef handle, ulong address, MappingKind kind, ulong? size, DmaDirection? direction, int? nents)
    {
        var ids = _state.MappingsAt(device, address);
        if (ids.IsEmpty) return null;
        if (ids.Length == 1) return _state.Mapping(ids[0]);
        // dma-debug's hash lookup sees only (device, address) and takes the entry that matches
        // best (type, size, nents, direction); the handle the op names only breaks a tie.
        var named = handle is LiveRef { Offset: 0 } live ? _state.LiveMapping(device, live.Index) : null;
        return ids.Order().Select(id => _state.Mapping(id)!).OrderByDescending(m =>
            (m.Kind == kind ? 16 : 0) + (size is null || size == m.Size ? 8 : 0) + (nents is null || nents == m.Nents ? 4 : 0) +
            (direction is null || direction == m.Direction ? 2 : 0) + (m == named ? 1 : 0)).First();
    }

    /// <summary>Every unmap: the dma-debug checks first (each misuse its own error, no state
    /// change), then teardown: leaves cleared, IOTLB invalidated now (strict) or the IOVA queued
    /// until a flush (lazy), bounce slots released.</summary>
    private Outcome DoUnmap(int deviceId, AddressRef handle, MappingKind kind, ulong? size, DmaDirection? direction, int? nents)
    {
        if (!TryDevice(deviceId, out var device, out var config, out var error)) return error!;
        if (!TryResolve(device.Id, handle, out ulong address))
            return Fail(DmaErrorKind.UnknownHandle, $"device {device.Id} has no live mapping {handle}");
        if (address == DmaAddr.MappingError.Value)
            return Fail(DmaErrorKind.InvalidDmaAddress, "tries to free an invalid DMA memory address (DMA_MAPPING_ERROR)");
        var mapping = FindUnmapTarget(device.Id, handle, address, kind, size, direction, nents);
        if (mapping is null)
            return _state.Unmapped.TryGetValue(device.Id, out var gone) && gone.Contains(address)
                ? Fail(DmaErrorKind.DoubleUnmap, $"device {device.Id} already unmapped {Hex.Format(address)}")
                : Fail(DmaErrorKind.UnknownHandle, $"device {device.Id} frees DMA memory it has not allocated at {Hex.Format(address)}");
        if (mapping.Kind != kind)
            return Fail(DmaErrorKind.WrongFunction, $"frees DMA memory with wrong function [mapped as {mapping.Kind}] [unmapped as {kind}]");
        if (size is ulong s && s != mapping.Size && !Planted(ModelPlant.WrongSizeUnmapAccepted))
            return Fail(DmaErrorKind.WrongSize, $"frees DMA memory with different size [mapped {Hex.Format(mapping.Size)}] [unmapped {Hex.Format(s)}]");
        if (nents is int n && n != mapping.Nents)
            return Fail(DmaErrorKind.SgCountMismatch, $"unmaps a scatterlist with {n} entries; it was mapped with {mapping.Nents}");
        if (direction is DmaDirection dir && dir != mapping.Direction)
            return Fail(DmaErrorKind.WrongDirection, $"frees DMA memory with different direction [mapped {mapping.Direction}] [unmapped {dir}]");

        foreach (var (domainId, allocation) in AllocationsOf(mapping))
        {
            if (!Planted(ModelPlant.UnmapKeepsLeaves)) ClearLeaves(domainId, allocation);
            if (Dom(domainId).Type == DomainType.DmaFq && !config.Untrusted && !Planted(ModelPlant.LazyUnmapFreesIova))
                QueueForFlush(domainId, allocation);
            else
            {
                bool lazy = Dom(domainId).Type == DomainType.DmaFq && !config.Untrusted; // planted: freed without the flush
                if (!Planted(ModelPlant.StrictUnmapKeepsIotlb) && !lazy) InvalidateIotlb(domainId, allocation);
                RemoveAllocation(domainId, allocation);
            }
        }
        foreach (var p in mapping.Parts)
            if (p.Bounce is int bounceId && !Planted(ModelPlant.UnmapLeaksBounce)) RemoveBounce(bounceId);
        RemoveMapping(mapping);
        RememberUnmapped(device.Id, address);
        return Done.Instance;
    }
}
