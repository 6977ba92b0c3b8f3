using DmaVerify.Contracts;
using DmaVerify.Optimized.Dma.Kernels;
using DmaVerify.Optimized.Iova;
using DmaVerify.Optimized.PageTables;

namespace DmaVerify.Optimized.Dma;

/// <summary>Routes, single-buffer maps (map, alloc_coherent, map_resource) and every unmap.</summary>
public sealed partial class OptimizedSystem
{
    private enum Route { Direct, Blocked, Unmanaged, Iommu, Gart, Tce, VirtioBypass }

    private SortedDictionary<int, BounceSlot> _bounces = [];
    private SpanAllocator? _swiotlbSlots;

    /// <summary>The swiotlb pool in 2 KiB slots (<see cref="SpanAllocator"/>, O(log n)).</summary>
    private SpanAllocator? SwiotlbSlots => _swiotlbSlots ??= Platform.SwiotlbPool is AddrRange pool
        ? new SpanAllocator(pool.Start, pool.Last, SwiotlbGeometry.SlotShift)
        : null;

    /// <summary>Takes a bounce span from the pool (given back on undo); null when none fits.</summary>
    private AddrRange? TakeBounceSpan(ulong bytes, ulong alignment, ulong limit, ulong boundary)
    {
        if (SwiotlbSlots is not SpanAllocator slots || slots.Alloc(bytes, alignment, limit, boundary) is not ulong start) return null;
        OnUndo(() => slots.Free(start));
        return AddrRange.FromLength(start, bytes);
    }

    /// <summary>The device's domain and the ops table its attach chose.</summary>
    private DmaOps OpsOf(Dev device, out Dom? domain)
    {
        domain = DomainOf(device.Domain);
        return device.Ops;
    }

    private static ulong DmaLimit(Dev device, ulong mask, Dom? domain) => ClipToAperture(DmaWindow.MinNotZero(mask, device.BusDmaLimit), domain);

    private static ulong ClipToAperture(ulong limit, Dom? domain) =>
        domain is { ForceAperture: true, IsDmaApi: true } ? Math.Min(limit, domain.Aperture.Last) : limit;

    /// <summary>The limit dma-iommu allocates below (<see cref="DmaLimit"/>, or the mask alone
    /// with <see cref="OptimizedPlant.BusLimitIgnoredByIommuDma"/> planted).</summary>
    private ulong IommuDmaLimit(Dev device, ulong mask, Dom domain) =>
        Planted(OptimizedPlant.BusLimitIgnoredByIommuDma) ? ClipToAperture(mask, domain) : DmaLimit(device, mask, domain);

    private Failed? ValidateBuffer(ulong phys, ulong length, DmaDirection direction, bool mmio)
    {
        if (length == 0) return Fail(DmaErrorKind.InvalidArgument, "length 0");
        if (!AddrRange.TryFromLength(phys, length, out var buffer))
            return Fail(DmaErrorKind.Overflow, $"buffer {Hex.Format(phys)}+{Hex.Format(length)} wraps past 2^64");
        if (direction == DmaDirection.None) return Fail(DmaErrorKind.InvalidArgument, "direction none");
        if (!Inside(mmio ? Platform.Mmio : Platform.Ram, buffer))
            return mmio ? Fail(DmaErrorKind.NotMmio, $"{buffer} is not MMIO") : Fail(DmaErrorKind.NotRam, $"{buffer} is not RAM");
        return null;
    }

    private static bool Inside(IReadOnlyList<AddrRange> regions, AddrRange range)
    {
        for (int i = 0; i < regions.Count; i++)
            if (regions[i].Contains(range)) return true;
        return false;
    }

    private readonly record struct Piece(ulong Phys, ulong Length, Prot Prot, ulong Mask, bool MayBounce, bool Mmio, bool NoBypass = false);

    private static MappingPart Bypass(ulong dma, ulong length, ulong phys, int? bounce = null) =>
        new() { Dma = dma, Length = length, Phys = phys, Bounce = bounce };

    private AddrRange? OverlapsRemappingAperture(ulong phys, ulong length)
    {
        foreach (var iommu in Platform.Iommus)
            if (iommu.Gart is GartConfig gart && DmaWindow.OverlapsAperture(phys, Planted(OptimizedPlant.GartApertureLastByteUnchecked) && length > 1 ? length - 1 : length,
                    gart.Aperture.Start, gart.Aperture.Last)) return gart.Aperture;
        return null;
    }

    private BounceSlot AddBounce(int device, AddrRange span, ulong orig, ulong buffer, ulong length, bool zeroed)
    {
        int id = _nextBounceId++;
        var slot = new BounceSlot(id, device, span, orig, buffer, length, zeroed);
        _bounces[id] = slot;
        OnUndo(() => { _bounces.Remove(id); _nextBounceId = id; });
        return slot;
    }

    private Outcome MapDirect(Dev device, in Piece req, ulong busLimit, out MappingPart part)
    {
        part = null!;
        // Every bus master's addresses inside a GART aperture are remapped: not directly reachable.
        bool inAperture = OverlapsRemappingAperture(req.Phys, req.Length) is not null;
        if (!inAperture && DmaWindow.IsCapable(req.Phys, req.Length, req.Mask, device.BusDmaLimit))
        {
            part = Bypass(req.Phys, req.Length, req.Phys);
            return Done.Instance;
        }
        string overflow = inAperture ? "DMA address in the GART aperture" : "DMA address overflow";
        if (!req.MayBounce || Platform.SwiotlbPool is not AddrRange pool) return Fail(DmaErrorKind.NotCapable, overflow);
        if (req.Length > SwiotlbGeometry.MaxMappingSize) return Fail(DmaErrorKind.NoBounceBuffer, $"{overflow}; too large for swiotlb");
        ulong slotBytes = Pow2Math.AlignUp(req.Length, SwiotlbGeometry.SlotSize);
        var span = TakeBounceSpan(slotBytes, SwiotlbGeometry.SlotSize, Planted(OptimizedPlant.BounceIgnoresLimit) ? ulong.MaxValue : busLimit, device.Config.SegmentBoundaryMask);
        if (span is null)
        {
            bool anyIgnoringLimit = SwiotlbSlots!.Alloc(slotBytes, SwiotlbGeometry.SlotSize, ulong.MaxValue, device.Config.SegmentBoundaryMask, claim: false) is not null;
            return anyIgnoringLimit || pool.Start > busLimit
                ? Fail(DmaErrorKind.NotCapable, $"{overflow}; no bounce slot below the limit")
                : Fail(DmaErrorKind.NoBounceBuffer, $"{overflow}; the swiotlb pool is full");
        }
        var slot = AddBounce(device.Id, span.Value, req.Phys, span.Value.Start, req.Length, false);
        part = Bypass(slot.BufferPhys, req.Length, slot.BufferPhys, slot.Id);
        return Done.Instance;
    }

    private Outcome MapGart(Dev device, Dom domain, in Piece req, ulong busLimit, out MappingPart part)
    {
        part = null!;
        bool inAperture = OverlapsRemappingAperture(req.Phys, req.Length) is not null;
        if (!inAperture && DmaWindow.IsCapable(req.Phys, req.Length, req.Mask, device.BusDmaLimit))
        {
            part = Bypass(req.Phys, req.Length, req.Phys);
            return Done.Instance;
        }
        if (req.Phys + (req.Length - 1) > GartConfig.MaxPhys) return Fail(DmaErrorKind.NotCapable, "beyond the GART's 40-bit reach");
        if (domain.Aperture.Start > busLimit) return Fail(DmaErrorKind.NotCapable, "the GART aperture is beyond the DMA limit");
        return MapThroughTable(device, domain, req, Math.Min(busLimit, domain.Aperture.Last), device.Config.SegmentBoundaryMask, Prot.Read | Prot.Write, out part);
    }

    private bool TceDirect(Dev device, Dom domain, ulong phys, ulong length, ulong mask)
    {
        var tce = IommuById(domain.Iommu)!.Tce!;
        return device.DdwActive && DmaWindow.InDdwWindow(phys, length, tce.DdwOffset, mask, device.BusDmaLimit);
    }

    private Outcome MapTce(Dev device, Dom domain, in Piece req, out MappingPart part)
    {
        part = null!;
        var tce = IommuById(domain.Iommu)!.Tce!;
        if (!req.Mmio && !req.NoBypass && TceDirect(device, domain, req.Phys, req.Length, req.Mask))
        {
            part = Bypass(req.Phys + tce.DdwOffset, req.Length, req.Phys);
            return Done.Instance;
        }
        if (req.Phys + (req.Length - 1) > domain.Format.MaxOutput) return Fail(DmaErrorKind.NotCapable, "beyond the TCE real page number range");
        ulong limit = Math.Min(DmaWindow.MinNotZero(req.Mask, device.BusDmaLimit), domain.Aperture.Last);
        return MapThroughTable(device, domain, req, limit, device.Config.SegmentBoundaryMask, req.Prot, out part);
    }

    private Outcome MapThroughTable(Dev device, Dom domain, in Piece req, ulong limit, ulong boundary, Prot prot, out MappingPart part)
    {
        part = null!;
        ulong granule = domain.Granule, offset = req.Phys % granule;
        if (device.Config.Untrusted && ((req.Phys | req.Length) & (granule - 1)) != 0)
            return Fail(DmaErrorKind.NoBounceBuffer, "untrusted device, unaligned buffer, and no bounce path through GART/TCE");
        ulong bytes = Pow2Math.AlignUp(offset + req.Length, granule);
        var range = AllocIova(device, domain, bytes, limit, boundary);
        if (range is null) return Fail(DmaErrorKind.OutOfIova, $"no room for {Hex.Format(bytes)} bytes in domain {domain.Id}");
        if (InstallMapping(domain, range.Value, range.Value.Start, req.Phys - offset, bytes, prot) is Failed failed) return failed;
        part = new MappingPart { Dma = range.Value.Start + offset, Length = req.Length, Phys = req.Phys, Domain = domain.Id, Allocation = range };
        return Done.Instance;
    }

    private Outcome MapIommu(Dev device, Dom domain, in Piece req, out MappingPart part)
    {
        part = null!;
        ulong granule = domain.Granule, offset = req.Phys % granule;
        ulong bytes = Pow2Math.AlignUp(offset + req.Length, granule);
        ulong mappedPhys = req.Phys - offset, reachedPhys = req.Phys;
        int? bounceId = null;
        bool unaligned = ((Planted(OptimizedPlant.UntrustedTailNotBounced) ? req.Phys : req.Phys | req.Length) & (granule - 1)) != 0;
        if (device.Config.Untrusted && unaligned)
        {
            if (!req.MayBounce) return Fail(DmaErrorKind.Unaligned, "untrusted device, unaligned buffer that cannot be bounced");
            if (Platform.SwiotlbPool is null) return Fail(DmaErrorKind.NoBounceBuffer, "DMA bounce buffers are inactive");
            if (bytes > SwiotlbGeometry.MaxMappingSize) return Fail(DmaErrorKind.NoBounceBuffer, "too large for swiotlb");
            var span = TakeBounceSpan(bytes, granule, ulong.MaxValue, ulong.MaxValue);
            if (span is null) return Fail(DmaErrorKind.NoBounceBuffer, "the swiotlb pool is full");
            var slot = AddBounce(device.Id, span.Value, req.Phys, span.Value.Start + offset, req.Length, true);
            bounceId = slot.Id;
            mappedPhys = span.Value.Start;
            reachedPhys = slot.BufferPhys;
        }
        if (mappedPhys + (bytes - 1) > domain.Format.MaxOutput) return Fail(DmaErrorKind.OutOfRange, "beyond the page table's output");
        ulong limit = IommuDmaLimit(device, req.Mask, domain);
        var range = AllocIova(device, domain, bytes, limit, ulong.MaxValue);
        if (range is null) return Fail(DmaErrorKind.OutOfIova, $"no IOVA for {Hex.Format(bytes)} bytes in domain {domain.Id}");
        if (InstallMapping(domain, range.Value, range.Value.Start, mappedPhys, bytes, req.Prot) is Failed failed) return failed;
        part = new MappingPart { Dma = range.Value.Start + offset, Length = req.Length, Phys = reachedPhys, Domain = domain.Id, Allocation = range, Bounce = bounceId };
        return Done.Instance;
    }

    private Failed? InstallMapping(Dom domain, AddrRange allocation, ulong iova, ulong phys, ulong bytes, Prot prot)
    {
        if (!domain.Allocations.ContainsKey(allocation.Start))
            AddAllocation(domain, new IovaAllocation(allocation, AllocationOwner.Mapping));
        return MapLeaves(domain, iova, phys, bytes, prot);
    }

    private DmaMapping Record(Dev device, MappingKind kind, ulong phys, ulong size, DmaDirection direction, ulong limit, List<MappingPart> parts,
        ValueList<SgEntry>? inputs = null, ValueList<DmaSegment>? segments = null)
    {
        var config = device.Config;
        var mapping = new DmaMapping
        {
            Id = _nextMappingId++, Device = device.Id, Kind = kind, Dma = new DmaAddr(segments?.Count > 0 ? segments[0].Dma.Value : parts[0].Dma),
            Size = size, Direction = direction, Phys = new PhysAddr(phys), Nents = inputs?.Count ?? 1, Limit = limit,
            UntrustedDevice = config.Untrusted, Inputs = inputs ?? ValueList<SgEntry>.Empty, Segments = segments ?? ValueList<DmaSegment>.Empty,
            Parts = parts, MaxSegmentSize = config.MaxSegmentSize, SegmentBoundaryMask = config.SegmentBoundaryMask,
        };
        device.Mappings.Add(mapping);
        ulong dma = mapping.Dma.Value;
        if (!device.ByDma.TryGetValue(dma, out var list)) device.ByDma[dma] = list = device.TakeList();
        list.Add(mapping);
        bool wasUnmapped = device.Unmapped.Remove(dma);
        _undo.Add(new Undo(UndoKind.Unrecord, device, 0, 0, Extra: mapping, Flag: wasUnmapped));
        return mapping;
    }

    private Outcome MapSingle(int deviceId, MappingKind kind, ulong phys, ulong length, DmaDirection direction, bool coherent)
    {
        if (!TryDevice(deviceId, out var device, out var error)) return error!;
        bool mmio = kind == MappingKind.Resource;
        if (ValidateBuffer(phys, length, direction, mmio) is Failed invalid) return invalid;
        if (coherent && phys % 4096 != 0) return Fail(DmaErrorKind.InvalidArgument, "a coherent buffer is page aligned");
        var ops = OpsOf(device, out var domain);
        ulong mask = coherent ? device.CoherentMask : device.DmaMask;
        ulong allocMask = coherent && Planted(OptimizedPlant.CoherentMaskIgnored) ? device.DmaMask : mask;
        var req = new Piece(phys, length, DirectionProt.For(direction), allocMask, MayBounce: kind == MappingKind.Single, mmio);
        var outcome = ops.Map(this, device, domain, req, out var part);
        if (!outcome.IsSuccess) return outcome;
        var mapping = Record(device, kind, phys, length, direction, DmaLimit(device, mask, part.IsBypass ? null : domain), [part]);
        var bounce = part.Bounce is int id ? _bounces[id] : null;
        return new Mapped(mapping.Dma, bounce is null ? null : new PhysAddr(bounce.BufferPhys));
    }

    private static DmaMapping? FindUnmapTarget(Dev device, AddressRef handle, ulong address, MappingKind kind, ulong? size, DmaDirection? direction, int? nents)
    {
        if (!device.ByDma.TryGetValue(address, out var candidates) || candidates.Count == 0) return null;
        if (candidates.Count == 1) return candidates[0];
        // dma-debug sees only the address: the best-matching entry wins; the named handle only
        // breaks a tie between equally good ones.
        var named = handle is LiveRef { Offset: 0 } live && live.Index >= 0 && live.Index < device.Mappings.Count ? device.Mappings[live.Index] : null;
        return candidates.OrderBy(m => m.Id).OrderByDescending(m =>
            (m.Kind == kind ? 16 : 0) + (size is null || size == m.Size ? 8 : 0) + (nents is null || nents == m.Nents ? 4 : 0) +
            (direction is null || direction == m.Direction ? 2 : 0) + (ReferenceEquals(m, named) ? 1 : 0)).First();
    }

    private Outcome DoUnmap(int deviceId, AddressRef handle, MappingKind kind, ulong? size, DmaDirection? direction, int? nents)
    {
        if (!TryDevice(deviceId, out var device, out var error)) return error!;
        if (!TryResolve(device, handle, out ulong address)) return Fail(DmaErrorKind.UnknownHandle, $"device {device.Id} has no live mapping {handle}");
        if (address == DmaAddr.MappingError.Value) return Fail(DmaErrorKind.InvalidDmaAddress, "DMA_MAPPING_ERROR");
        var mapping = FindUnmapTarget(device, handle, address, kind, size, direction, nents);
        if (mapping is null)
            return device.Unmapped.Contains(address)
                ? Fail(DmaErrorKind.DoubleUnmap, $"device {device.Id} already unmapped {Hex.Format(address)}")
                : Fail(DmaErrorKind.UnknownHandle, $"device {device.Id} frees DMA memory it has not allocated at {Hex.Format(address)}");
        if (mapping.Kind != kind) return Fail(DmaErrorKind.WrongFunction, $"mapped as {mapping.Kind}, unmapped as {kind}");
        if (size is ulong s && s != mapping.Size) return Fail(DmaErrorKind.WrongSize, $"mapped {Hex.Format(mapping.Size)}, unmapped {Hex.Format(s)}");
        if (nents is int n && n != mapping.Nents && !Planted(OptimizedPlant.SgNentsUnchecked)) return Fail(DmaErrorKind.SgCountMismatch, $"{n} entries; mapped with {mapping.Nents}");
        if (direction is DmaDirection dir && dir != mapping.Direction && !Planted(OptimizedPlant.WrongDirectionUnmapAccepted)) return Fail(DmaErrorKind.WrongDirection, $"mapped {mapping.Direction}, unmapped {dir}");

        // From here on nothing fails: teardown needs no undo.
        var parts = mapping.Parts;
        for (int i = 0; i < parts.Count; i++)
        {
            if (parts[i] is not { Domain: int domainId, Allocation: AddrRange allocation }) continue;
            if (SameAllocationEarlier(parts, i, domainId, allocation)) continue; // sg parts share one
            var domain = _domains[domainId];
            bool lazy = domain.Type == DomainType.DmaFq && !device.Config.Untrusted;
            ClearLeaves(domain, allocation, lazy ? domain.PendingFree : null);
            if (lazy)
                QueueForFlush(domain, allocation);
            else
            {
                InvalidateIotlb(domain, allocation);
                ReleaseAllocation(domain, allocation);
            }
        }
        foreach (var part in parts)
            if (part.Bounce is int bounceId && _bounces.Remove(bounceId, out var freed)) SwiotlbSlots?.Free(freed.Slot.Start);
        device.Mappings.Remove(mapping); // O(log n) in any order
        device.Unlist(mapping);
        if (!Planted(OptimizedPlant.DoubleUnmapNotTracked)) device.Unmapped.Add(address);
        return Done.Instance;
    }

    private static bool SameAllocationEarlier(List<MappingPart> parts, int index, int domain, AddrRange allocation)
    {
        for (int k = 0; k < index; k++)
            if (parts[k].Domain == domain && parts[k].Allocation == allocation) return true;
        return false;
    }

    /// <summary>Removes the leaves inside an allocation (whole leaves; holes skipped).</summary>
    private static void ClearLeaves(Dom domain, AddrRange range, TableFreeList? deferFree)
    {
        ulong cursor = range.Start;
        while (true)
        {
            if (domain.Table.Translate(cursor) is { } t)
            {
                domain.Table.Unmap(t.LeafIova, t.LeafSize, deferFree);
                ulong end = t.LeafIova + t.LeafSize - 1;
                if (end >= range.Last) return;
                cursor = end + 1;
            }
            else
            {
                if (range.Last - cursor < domain.Granule) return;
                cursor += domain.Granule;
                if (cursor > range.Last) return;
            }
        }
    }
}
