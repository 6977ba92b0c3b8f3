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
        // Physically contiguous neighbours go into the page table as one run (fewer, larger leaves).
        for (int first = 0, next; first < n; first = next)
        {
            ulong phys = op.Segments[first].Phys.Value - offsets[first], end = phys + mapped[first];
            for (next = first + 1; next < n && op.Segments[next].Phys.Value - offsets[next] == end; next++) end += mapped[next];
            if (MapLeaves(domain, iova + iovaOffset[first], phys, end - phys, prot) is Failed failed) return failed;
        }
        var parts = new List<MappingPart>(n);
        var joiner = new SgSegmentJoiner(mask, config.MaxSegmentSize + (Planted(OptimizedPlant.SgMaxSegmentPastByOne) ? 1UL : 0));
        for (int i = 0; i < n; i++)
        {
            var entry = op.Segments[i];
            joiner.Add(iova + iovaOffset[i], offsets[i], entry.Length, mapped[i]);
            parts.Add(new MappingPart { Dma = iova + iovaOffset[i] + offsets[i], Length = entry.Length, Phys = entry.Phys.Value, Domain = domain.Id, Allocation = range });
        }
        var segments = joiner.Segments;
        return FinishSg(device, op, parts, segments, domain);
    }

    /// <summary>A run of consecutive scatterlist entries: those the GART remaps and that join
    /// share one aperture range; an entry the device reaches as it is stands alone, 1:1.</summary>
    private readonly record struct GartChunk(int First, int Count, bool Remapped)
    {
        public IEnumerable<int> Entries => Enumerable.Range(First, Count);
    }

    private const ulong GartPage = 4096;

    private Outcome MapSgGart(Dev device, Dom domain, MapSg op)
    {
        var entries = op.Segments;
        ulong reach = DmaWindow.MinNotZero(device.DmaMask, device.BusDmaLimit);
        var parts = new MappingPart[entries.Count];
        var segments = new List<DmaSegment>();
        foreach (var chunk in GartChunks(device, entries))
        {
            if (!chunk.Remapped)
            {
                ulong phys = entries[chunk.First].Phys.Value, length = entries[chunk.First].Length;
                parts[chunk.First] = Bypass(phys, length, phys);
                segments.Add(new DmaSegment(new DmaAddr(phys), length));
                continue;
            }
            // Checked and mapped chunk by chunk, in order: the first chunk that fails names the error.
            var refusal = GartRefusal(device, domain, reach, entries, chunk);
            if (refusal is not null) return refusal;
            if (MapGartChunk(device, domain, reach, entries, chunk, parts, out var merged) is Failed failed) return failed;
            segments.Add(merged!);
        }
        return FinishSg(device, op, [.. parts], segments, null);
    }

    /// <summary>The scatterlist cut into chunks by the GART's merge rule.</summary>
    private List<GartChunk> GartChunks(Dev device, ValueList<SgEntry> entries)
    {
        var chunks = new List<GartChunk>();
        ulong chunkBytes = 0;
        for (int i = 0; i < entries.Count; i++)
        {
            ulong phys = entries[i].Phys.Value, length = entries[i].Length;
            bool remap = OverlapsRemappingAperture(phys, length) is not null
                         || !DmaWindow.IsCapable(phys, length, device.DmaMask, device.BusDmaLimit);
            bool joins = remap && chunks.Count > 0 && chunks[^1].Remapped
                         && SgRules.GartJoinsChunk(entries[i - 1].Phys.Value + entries[i - 1].Length, phys, chunkBytes, length, device.Config.MaxSegmentSize);
            if (joins)
            {
                chunks[^1] = chunks[^1] with { Count = chunks[^1].Count + 1 };
                chunkBytes += length;
            }
            else
            {
                chunks.Add(new GartChunk(i, 1, remap));
                chunkBytes = length;
            }
        }
        return chunks;
    }

    /// <summary>Why a remapped chunk cannot go through the GART, or null.</summary>
    private static Failed? GartRefusal(Dev device, Dom domain, ulong reach, ValueList<SgEntry> entries, GartChunk chunk)
    {
        int beyond = chunk.Entries.FirstOrDefault(k => entries[k].Phys.Value + (entries[k].Length - 1) > GartConfig.MaxPhys, -1);
        if (beyond >= 0) return Fail(DmaErrorKind.NotCapable, $"entry {beyond} is beyond the GART's 40-bit physical reach");
        // No bounce buffers behind the GART: an untrusted device's entries must be whole pages.
        if (device.Config.Untrusted && chunk.Entries.Any(k => ((entries[k].Phys.Value | entries[k].Length) & (GartPage - 1)) != 0))
            return Fail(DmaErrorKind.NoBounceBuffer, "untrusted device, unaligned entry, and no bounce path through the GART");
        return domain.Aperture.Start > reach ? Fail(DmaErrorKind.NotCapable, "the GART aperture is beyond the DMA limit") : null;
    }

    /// <summary>One aperture range for the chunk, each entry's pages mapped in turn; the chunk's
    /// DMA segment starts at the first entry's offset within its page.</summary>
    private Failed? MapGartChunk(Dev device, Dom domain, ulong reach, ValueList<SgEntry> entries, GartChunk chunk, MappingPart[] parts, out DmaSegment? segment)
    {
        ulong PagesOf(int k) => Pow2Math.AlignUp(entries[k].Phys.Value % GartPage + entries[k].Length, GartPage);
        segment = null;
        ulong total = chunk.Entries.Aggregate(0UL, (sum, k) => sum + PagesOf(k));
        if (AllocIova(device, domain, total, Math.Min(reach, domain.Aperture.Last), device.Config.SegmentBoundaryMask) is not AddrRange range)
            return Fail(DmaErrorKind.OutOfIova, "no room in the GART aperture");
        AddAllocation(domain, new IovaAllocation(range, AllocationOwner.Mapping));
        ulong iova = range.Start, data = 0;
        foreach (int k in chunk.Entries)
        {
            ulong phys = entries[k].Phys.Value, inPage = phys % GartPage;
            if (MapLeaves(domain, iova, phys - inPage, PagesOf(k), Prot.Read | Prot.Write) is Failed failed) return failed;
            parts[k] = new MappingPart { Dma = iova + inPage, Length = entries[k].Length, Phys = phys, Domain = domain.Id, Allocation = range };
            iova += PagesOf(k);
            data += entries[k].Length;
        }
        segment = new DmaSegment(new DmaAddr(range.Start + entries[chunk.First].Phys.Value % GartPage), data);
        return null;
    }
}
