using DmaVerify.Contracts;
using DmaVerify.Optimized.Dma.Kernels;

namespace DmaVerify.Optimized.Dma;

/// <summary>dma_map_sg: merged through a DMA domain, chunked through the GART, per entry otherwise.</summary>
public sealed partial class OptimizedSystem
{
    private Outcome DoMapSg(MapSg op)
    {
        if (!TryDevice(op.Device, out var device, out var error)) return error!;
        var config = device.Config;
        if (op.Segments.Count == 0) return Fail(DmaErrorKind.InvalidArgument, "a scatterlist needs at least one entry");
        if (op.Direction == DmaDirection.None) return Fail(DmaErrorKind.InvalidArgument, "direction none");
        for (int i = 0; i < op.Segments.Count; i++)
        {
            var seg = op.Segments[i];
            if (ValidateBuffer(seg.Phys.Value, seg.Length, op.Direction, mmio: false) is Failed bad) return bad;
            if (seg.Length > config.MaxSegmentSize) return Fail(DmaErrorKind.InvalidArgument, $"entry {i} longer than max_segment_size");
            if (config.SegmentBoundaryMask != ulong.MaxValue && seg.Length - 1 > config.SegmentBoundaryMask)
                return Fail(DmaErrorKind.InvalidArgument, $"entry {i} longer than the segment boundary");
        }
        var ops = OpsOf(device, out var domain);
        return ops.MapSg(this, device, domain, op, DirectionProt.For(op.Direction));
    }

    private Outcome FinishSg(Dev device, MapSg op, List<MappingPart> parts, List<DmaSegment> segments, Dom? limitDomain)
    {
        foreach (var segment in segments)
            if (Pow2Math.CrossesBoundary(segment.Dma.Value, segment.Length, device.Config.SegmentBoundaryMask))
                return Fail(DmaErrorKind.InvalidArgument, $"DMA segment {segment} would cross the segment boundary");
        ulong size = 0;
        foreach (var s in op.Segments) size += s.Length;
        var segs = segments.ToValueList();
        Record(device, MappingKind.Sg, op.Segments[0].Phys.Value, size, op.Direction, DmaLimit(device, device.DmaMask, limitDomain), parts, op.Segments, segs);
        var bounces = parts.Where(p => p.Bounce is not null).Select(p => new PhysAddr(p.Phys)).ToValueList();
        return new SgMapped(segs, bounces.Count > 0 ? bounces : null);
    }

    private Outcome MapSgPerEntry(Dev device, DmaOps ops, Dom? domain, MapSg op, Prot prot)
    {
        bool noBypass = ops.Kind == Route.Tce && !op.Segments.All(s => TceDirect(device, domain!, s.Phys.Value, s.Length, device.DmaMask));
        var parts = new List<MappingPart>(op.Segments.Count);
        foreach (var seg in op.Segments)
        {
            var req = new Piece(seg.Phys.Value, seg.Length, prot, device.DmaMask, MayBounce: true, Mmio: false, noBypass);
            var outcome = ops.Map(this, device, domain, req, out var part);
            if (!outcome.IsSuccess) return outcome;
            parts.Add(part);
        }
        var segments = parts.Select(p => new DmaSegment(new DmaAddr(p.Dma), p.Length)).ToList();
        return FinishSg(device, op, parts, segments, ops.Kind == Route.Iommu ? domain : null);
    }

    private Outcome MapSgMerged(Dev device, Dom domain, MapSg op, Prot prot)
    {
        var config = device.Config;
        ulong granule = domain.Granule, mask = config.SegmentBoundaryMask;
        int n = op.Segments.Count;
        var offsets = new ulong[n];
        var mapped = new ulong[n];
        var iovaOffset = new ulong[n];
        ulong iovaLen = 0;
        for (int i = 0; i < n; i++)
        {
            var seg = op.Segments[i];
            offsets[i] = seg.Phys.Value % granule;
            ulong length = Pow2Math.AlignUp(seg.Length + offsets[i], granule);
            ulong pad = SgRules.PadBefore(Planted(OptimizedPlant.SgPadSkipsSecondEntry) && i == 1 ? 0 : i, mask, iovaLen, length);
            if (pad != 0)
            {
                mapped[i - 1] += pad;
                iovaLen += pad;
            }
            iovaOffset[i] = iovaLen;
            mapped[i] = length;
            iovaLen += length;
        }
        for (int i = 0; i < n; i++)
            if (op.Segments[i].Phys.Value - offsets[i] + mapped[i] - 1 > domain.Format.MaxOutput)
                return Fail(DmaErrorKind.OutOfRange, "a scatterlist entry is beyond the page table's output");
        ulong limit = IommuDmaLimit(device, device.DmaMask, domain);
        var range = AllocIova(device, domain, iovaLen, limit, ulong.MaxValue);
        if (range is null) return Fail(DmaErrorKind.OutOfIova, $"no IOVA for a {Hex.Format(iovaLen)}-byte scatterlist in domain {domain.Id}");
        ulong iova = range.Value.Start;
        AddAllocation(domain, new IovaAllocation(range.Value, AllocationOwner.Mapping));
        int runStart = 0;
        for (int i = 1; i <= n; i++)
        {
            bool contiguous = i < n && op.Segments[i].Phys.Value - offsets[i] == op.Segments[i - 1].Phys.Value - offsets[i - 1] + mapped[i - 1];
            if (contiguous) continue;
            ulong runPhys = op.Segments[runStart].Phys.Value - offsets[runStart];
            ulong runLen = iovaOffset[i - 1] + mapped[i - 1] - iovaOffset[runStart];
            if (MapLeaves(domain, iova + iovaOffset[runStart], runPhys, runLen, prot) is Failed failed) return failed;
            runStart = i;
        }
        var parts = new List<MappingPart>(n);
        var segments = new List<DmaSegment>();
        ulong maxLen = config.MaxSegmentSize + (Planted(OptimizedPlant.SgMaxSegmentPastByOne) ? 1UL : 0), curLen = 0, dma = iova, curStart = 0;
        for (int i = 0; i < n; i++)
        {
            ulong sOff = offsets[i], sLength = op.Segments[i].Length, sIovaLen = mapped[i];
            if (SgRules.JoinsSegment(curLen, sOff, dma, mask, maxLen, sLength))
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
        return FinishSg(device, op, parts, segments, domain);
    }

    private Outcome MapSgGart(Dev device, Dom domain, MapSg op)
    {
        const ulong page = 4096;
        var config = device.Config;
        int n = op.Segments.Count;
        ulong busLimit = DmaWindow.MinNotZero(device.DmaMask, device.BusDmaLimit);
        var items = new List<List<int>>();
        var needs = new bool[n];
        ulong currentLen = 0;
        for (int i = 0; i < n; i++)
        {
            var seg = op.Segments[i];
            needs[i] = OverlapsRemappingAperture(seg.Phys.Value, seg.Length) is not null ||
                       !DmaWindow.IsCapable(seg.Phys.Value, seg.Length, device.DmaMask, device.BusDmaLimit);
            var current = items.Count > 0 ? items[^1] : null;
            bool merge = needs[i] && current is not null && current[^1] == i - 1 && needs[i - 1] &&
                         SgRules.GartJoinsChunk(op.Segments[i - 1].Phys.Value + op.Segments[i - 1].Length, seg.Phys.Value, currentLen, seg.Length, config.MaxSegmentSize);
            if (merge) { current!.Add(i); currentLen += seg.Length; }
            else { items.Add([i]); currentLen = seg.Length; }
        }
        var parts = new MappingPart[n];
        var segments = new List<DmaSegment>();
        foreach (var members in items)
        {
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
            foreach (int k in members)
                if (config.Untrusted && ((op.Segments[k].Phys.Value | op.Segments[k].Length) & (page - 1)) != 0)
                    return Fail(DmaErrorKind.NoBounceBuffer, "untrusted device, unaligned entry, and no bounce path through the GART");
            if (domain.Aperture.Start > busLimit) return Fail(DmaErrorKind.NotCapable, "the GART aperture is beyond the DMA limit");
            ulong firstOffset = op.Segments[first].Phys.Value % page;
            var pageCounts = members.Select(k => Pow2Math.AlignUp(op.Segments[k].Phys.Value % page + op.Segments[k].Length, page)).ToList();
            ulong bytes = 0;
            foreach (var c in pageCounts) bytes += c;
            var range = AllocIova(device, domain, bytes, Math.Min(busLimit, domain.Aperture.Last), config.SegmentBoundaryMask);
            if (range is null) return Fail(DmaErrorKind.OutOfIova, "no room in the GART aperture");
            AddAllocation(domain, new IovaAllocation(range.Value, AllocationOwner.Mapping));
            ulong cursor = range.Value.Start, chunkLen = 0;
            for (int m = 0; m < members.Count; m++)
            {
                var seg = op.Segments[members[m]];
                ulong offset = seg.Phys.Value % page;
                if (MapLeaves(domain, cursor, seg.Phys.Value - offset, pageCounts[m], Prot.Read | Prot.Write) is Failed failed) return failed;
                parts[members[m]] = new MappingPart { Dma = cursor + offset, Length = seg.Length, Phys = seg.Phys.Value, Domain = domain.Id, Allocation = range };
                cursor += pageCounts[m];
                chunkLen += seg.Length;
            }
            segments.Add(new DmaSegment(new DmaAddr(range.Value.Start + firstOffset), chunkLen));
        }
        return FinishSg(device, op, [.. parts], segments, null);
    }
}
