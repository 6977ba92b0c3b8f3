using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>
/// dma_map_sg. Through a DMA domain (trusted device): one IOVA range for the whole list, laid
/// out with boundary padding and merged into output segments as iommu_dma_map_sg does.
/// Untrusted devices, dma-direct, virtio bypass and TCE: one piece per entry, no merging
/// (TCE goes direct only when every entry can). GART: entries that need the IOMMU are merged
/// into contiguous aperture chunks; the others are bypassed.
/// </summary>
public sealed partial class ModelSystem
{
    private Outcome DoMapSg(MapSg op)
    {
        if (!TryDevice(op.Device, out var device, out var config, out var error)) return error!;
        if (op.Segments.Count == 0) return Fail(DmaErrorKind.InvalidArgument, "a scatterlist needs at least one entry");
        if (op.Direction == DmaDirection.None) return Fail(DmaErrorKind.InvalidArgument, "direction none (DMA_NONE) is not a mapping direction");
        for (int i = 0; i < op.Segments.Count; i++)
        {
            var seg = op.Segments[i];
            if (ValidateBuffer(seg.Phys.Value, seg.Length, op.Direction, mmio: false, out _) is Failed bad)
                return bad with { Error = bad.Error with { Message = $"entry {i}: {bad.Error.Message}" } };
            if (seg.Length > config.MaxSegmentSize)
                return Fail(DmaErrorKind.InvalidArgument, $"entry {i} is {Hex.Format(seg.Length)} bytes, longer than max_segment_size {Hex.Format(config.MaxSegmentSize)}");
            if (config.SegmentBoundaryMask != ulong.MaxValue && seg.Length - 1 > config.SegmentBoundaryMask)
                return Fail(DmaErrorKind.InvalidArgument, $"entry {i} is longer than the segment boundary {Hex.Format(config.SegmentBoundaryMask + 1)}");
        }
        var route = RouteOf(device, config, out var domain);
        var prot = DmaRules.ProtFor(op.Direction);
        var proposal = _proposed as SgMapped;
        return route switch
        {
            Route.Blocked or Route.Unmanaged => MapPiece(device, config, route, domain, default, out _),
            Route.Iommu when !config.Untrusted => MapSgMerged(device, config, domain!, op, prot, proposal),
            Route.Gart => JudgingExhaustionAtTheEnd(op, () => MapSgGart(device, config, domain!, op, prot, proposal)),
            _ => JudgingExhaustionAtTheEnd(op, () => MapSgPerEntry(device, config, route, domain, op, prot, proposal)),
        };
    }

    /// <summary>
    /// A list mapped in several allocations (per entry, or GART chunks) that the implementation
    /// failed for lack of space: the failure belongs to whichever allocation found no room, not
    /// to the first. So the model places every allocation its own way (as in Apply) and judges
    /// completeness once: if all of them fit, the implementation's failure is incomplete
    /// (INV-11); if one does not, the model fails there too and the outcomes are compared.
    /// </summary>
    private Outcome JudgingExhaustionAtTheEnd(MapSg op, Func<Outcome> map)
    {
        if (_proposed is not Failed { Kind: DmaErrorKind.OutOfIova or DmaErrorKind.NoBounceBuffer } exhausted) return map();
        _exhaustionDeferred = true;
        Outcome outcome;
        try
        {
            outcome = map();
        }
        finally
        {
            _exhaustionDeferred = false;
        }
        if (outcome is SgMapped placed)
            throw Diverge("INV-11", $"the implementation failed with {exhausted.Kind}, but all {op.Segments.Count} entries fit: {string.Join(", ", placed.Segments.Select(seg => $"{Hex.Format(seg.Dma.Value)}+{Hex.Format(seg.Length)}"))}");
        return outcome;
    }

    private Outcome FinishSg(int deviceId, DeviceConfig config, MapSg op, List<MappingPart> parts, List<DmaSegment> segments, ModelDomain? limitDomain)
    {
        foreach (var segment in segments)
        {
            var range = AddrRange.FromLength(segment.Dma.Value, segment.Length);
            if (IovaSpace.CrossesBoundary(range, config.SegmentBoundaryMask))
                return Fail(DmaErrorKind.InvalidArgument, $"DMA segment {range} would cross the segment boundary {Hex.Format(config.SegmentBoundaryMask + 1)} (the entry is not split)");
        }
        ulong size = op.Segments.Aggregate(0UL, (sum, s) => sum + s.Length);
        var segs = segments.ToValueList();
        var device = Dev(deviceId);
        Record(device, config, MappingKind.Sg, op.Segments[0].Phys.Value, size, op.Direction, DmaLimit(device, device.DmaMask, limitDomain), parts, op.Segments, segs);
        var bounces = parts.Where(p => p.Bounce is not null).Select(p => new PhysAddr(p.Phys)).ToValueList();
        return new SgMapped(segs, bounces.Count > 0 ? bounces : null);
    }

    /// <summary>One piece per entry; output segment i is entry i.</summary>
    private Outcome MapSgPerEntry(ModelDevice device, DeviceConfig config, Route route, ModelDomain? domain, MapSg op, Prot prot, SgMapped? proposal)
    {
        bool noBypass = route == Route.Tce && !op.Segments.All(s => TceDirectPossible(device, domain!, s));
        var parts = new List<MappingPart>();
        int bounced = 0;
        for (int i = 0; i < op.Segments.Count; i++)
        {
            var seg = op.Segments[i];
            var req = new PieceRequest(seg.Phys.Value, seg.Length, prot, device.DmaMask, MayBounce: true, Mmio: false,
                proposal?.Segments.ElementAtOrDefault(i)?.Dma.Value,
                proposal?.Bounces is { } proposedBounces && bounced < proposedBounces.Count ? proposedBounces[bounced].Value : null, noBypass);
            var outcome = MapPiece(Dev(device.Id), config, route, domain is null ? null : Dom(domain.Id), req, out var part);
            if (!outcome.IsSuccess) return outcome is Failed f ? f with { Error = f.Error with { Message = $"entry {i}: {f.Error.Message}" } } : outcome;
            if (part.Bounce is not null) bounced++;
            parts.Add(part);
        }
        var segments = parts.Select(p => new DmaSegment(new DmaAddr(p.Dma), p.Length)).ToList();
        return FinishSg(device.Id, config, op, parts, segments, route == Route.Iommu ? domain : null);
    }

    private bool TceDirectPossible(ModelDevice device, ModelDomain domain, SgEntry seg)
    {
        var tce = _index.Iommu(domain.Iommu)!.Tce!;
        return device.DdwActive && seg.Phys.Value <= ulong.MaxValue - tce.DdwOffset &&
               DmaRules.DmaCapable(seg.Phys.Value + tce.DdwOffset, seg.Length, device.DmaMask, device.BusDmaLimit);
    }

    /// <summary>iommu_dma_map_sg: layout with boundary padding (the padding extends the previous
    /// entry's mapping), one IOVA allocation, physically contiguous runs mapped together, then
    /// __finalise_sg's merge rules.</summary>
    private Outcome MapSgMerged(ModelDevice device, DeviceConfig config, ModelDomain domain, MapSg op, Prot prot, SgMapped? proposal)
    {
        ulong granule = domain.Granule, mask = config.SegmentBoundaryMask;
        int n = op.Segments.Count;
        var offsets = new ulong[n];       // in-granule offset of each entry
        var mapped = new ulong[n];        // granule-aligned mapped length incl. padding added after it
        var iovaOffset = new ulong[n];    // where each entry's granules start inside the allocation
        ulong iovaLen = 0;
        for (int i = 0; i < n; i++)
        {
            var seg = op.Segments[i];
            offsets[i] = seg.Phys.Value % granule;
            ulong length = IovaSpace.AlignUp(seg.Length + offsets[i], granule, out _);
            ulong pad = unchecked((mask - iovaLen + 1) & mask);
            if (i > 0 && pad != 0 && pad < length - 1)
            {
                mapped[i - 1] += pad;
                iovaLen += pad;
            }
            iovaOffset[i] = iovaLen;
            mapped[i] = length;
            iovaLen += length;
        }
        ulong mappedEnd = iovaOffset[n - 1] + mapped[n - 1];
        if (op.Segments.Select((s, i) => s.Phys.Value - offsets[i] + mapped[i] - 1).Any(last => last > domain.Format.MaxOutput))
            return Fail(DmaErrorKind.OutOfRange, $"a scatterlist entry is beyond the page table's {domain.Format.OutputBits}-bit output");
        ulong limit = DmaLimit(device, device.DmaMask, domain);
        ulong? hint = proposal?.Segments.Count > 0 ? proposal.Segments[0].Dma.Value - offsets[0] : null;
        var range = ChooseIova(device.Id, domain.Id, iovaLen, limit, ulong.MaxValue, hint);
        if (range is null)
            return Fail(DmaErrorKind.OutOfIova, $"no IOVA for a {Hex.Format(iovaLen)}-byte scatterlist below {Hex.Format(limit)} in domain {domain.Id}");
        ulong iova = range.Value.Start;

        // iommu_map_sg: runs of physically contiguous entries are mapped as one.
        if (Dom(domain.Id).AllocationAt(range.Value) is null)
            AddAllocation(domain.Id, range.Value, AllocationOwner.Mapping);
        int runStart = 0;
        for (int i = 1; i <= n; i++)
        {
            bool contiguous = i < n && op.Segments[i].Phys.Value - offsets[i] == op.Segments[i - 1].Phys.Value - offsets[i - 1] + mapped[i - 1];
            if (contiguous) continue;
            ulong runPhys = op.Segments[runStart].Phys.Value - offsets[runStart];
            ulong runLen = iovaOffset[i - 1] + mapped[i - 1] - iovaOffset[runStart];
            MapLeaves(domain.Id, iova + iovaOffset[runStart], runPhys, runLen, prot);
            runStart = i;
        }
        _ = mappedEnd;

        // __finalise_sg
        var parts = new List<MappingPart>();
        var segments = new List<DmaSegment>();
        ulong maxLen = config.MaxSegmentSize, curLen = 0, dma = iova, curStart = 0;
        for (int i = 0; i < n; i++)
        {
            ulong sOff = offsets[i], sLength = op.Segments[i].Length, sIovaLen = mapped[i];
            if (curLen != 0 && sOff == 0 && (dma & mask) != 0 && (maxLen - curLen >= sLength || Planted(ModelPlant.SgMergeIgnoresMaxSegment)))
            {
                curLen += sLength;
                segments[^1] = new DmaSegment(new DmaAddr(curStart), curLen);
            }
            else
            {
                curStart = dma + sOff;
                curLen = sLength;
                segments.Add(new DmaSegment(new DmaAddr(curStart), curLen));
            }
            parts.Add(new MappingPart { Dma = dma + sOff, Length = sLength, Phys = op.Segments[i].Phys.Value, Domain = domain.Id, Allocation = range });
            dma += sIovaLen;
            if (sLength + sOff < sIovaLen) curLen = 0;
        }
        return FinishSg(device.Id, config, op, parts, segments, domain);
    }

    /// <summary>gart_map_sg: entries that need the IOMMU are merged into one aperture chunk while
    /// the previous one ends on a page boundary, the next starts at offset 0, and the chunk stays
    /// within max_segment_size; the rest are bypassed 1:1.</summary>
    private Outcome MapSgGart(ModelDevice device, DeviceConfig config, ModelDomain domain, MapSg op, Prot prot, SgMapped? proposal)
    {
        const ulong page = 4096;
        int n = op.Segments.Count;
        ulong busLimit = DmaRules.MinNotZero(device.DmaMask, device.BusDmaLimit);
        var items = new List<List<int>>(); // output items: a bypassed entry, or a chunk of entries
        var needs = new bool[n];
        for (int i = 0; i < n; i++)
        {
            var seg = op.Segments[i];
            needs[i] = OverlapsRemappingAperture(seg.Phys.Value, seg.Length) is not null ||
                       !DmaRules.DmaCapable(seg.Phys.Value, seg.Length, device.DmaMask, device.BusDmaLimit);
            var current = items.Count > 0 ? items[^1] : null;
            bool merge = needs[i] && current is not null && current[^1] == i - 1 && needs[i - 1] &&
                         (op.Segments[i - 1].Phys.Value + op.Segments[i - 1].Length) % page == 0 && seg.Phys.Value % page == 0 &&
                         current.Aggregate(0UL, (sum, k) => sum + op.Segments[k].Length) + seg.Length <= config.MaxSegmentSize;
            if (merge) current!.Add(i);
            else items.Add([i]);
        }
        var parts = new MappingPart[n];
        var segments = new List<DmaSegment>();
        for (int item = 0; item < items.Count; item++)
        {
            var members = items[item];
            int first = members[0];
            if (!needs[first])
            {
                var seg = op.Segments[first];
                parts[first] = Bypass(seg.Phys.Value, seg.Length, seg.Phys.Value);
                segments.Add(new DmaSegment(new DmaAddr(seg.Phys.Value), seg.Length));
                continue;
            }
            foreach (int k in members)
                if (op.Segments[k].Phys.Value + (op.Segments[k].Length - 1) > GartConfig.MaxPhys)
                    return Fail(DmaErrorKind.NotCapable, $"entry {k} is beyond the GART's 40-bit physical reach");
            // No bounce path through the GART (see MapThroughTable): unaligned untrusted entries are refused.
            foreach (int k in members)
                if (config.Untrusted && ((op.Segments[k].Phys.Value | op.Segments[k].Length) & (page - 1)) != 0)
                    return Fail(DmaErrorKind.NoBounceBuffer, $"device {device.Id} is untrusted and entry {k} is not page aligned; the GART has no bounce buffers");
            if (domain.Aperture.Start > busLimit)
                return Fail(DmaErrorKind.NotCapable, $"the GART aperture {domain.Aperture} is beyond device {device.Id}'s DMA limit {Hex.Format(busLimit)}");
            ulong firstOffset = op.Segments[first].Phys.Value % page;
            var pageCounts = members.Select(k => IovaSpace.AlignUp(op.Segments[k].Phys.Value % page + op.Segments[k].Length, page, out _)).ToList();
            ulong bytes = pageCounts.Aggregate(0UL, (a, b) => a + b);
            ulong? hint = proposal?.Segments.ElementAtOrDefault(item)?.Dma.Value - firstOffset;
            var range = ChooseIova(device.Id, domain.Id, bytes, Math.Min(busLimit, domain.Aperture.Last), config.SegmentBoundaryMask, hint);
            if (range is null)
                return Fail(DmaErrorKind.OutOfIova, $"no room for {Hex.Format(bytes)} bytes in the GART aperture {domain.Aperture}");
            AddAllocation(domain.Id, range.Value, AllocationOwner.Mapping);
            ulong cursor = range.Value.Start, chunkLen = 0;
            for (int m = 0; m < members.Count; m++)
            {
                var seg = op.Segments[members[m]];
                ulong offset = seg.Phys.Value % page;
                MapLeaves(domain.Id, cursor, seg.Phys.Value - offset, pageCounts[m], Prot.Read | Prot.Write);
                parts[members[m]] = new MappingPart { Dma = cursor + offset, Length = seg.Length, Phys = seg.Phys.Value, Domain = domain.Id, Allocation = range };
                cursor += pageCounts[m];
                chunkLen += seg.Length;
            }
            segments.Add(new DmaSegment(new DmaAddr(range.Value.Start + firstOffset), chunkLen));
        }
        _ = prot;
        return FinishSg(device.Id, config, op, parts.ToList(), segments, null);
    }
}
