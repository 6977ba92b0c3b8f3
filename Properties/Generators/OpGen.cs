using DmaVerify.Contracts;
using DmaVerify.Model;
using FsCheck;
using FsCheck.Fluent;

namespace DmaVerify.Properties;

/// <summary>
/// The next op, generated from the current model state: ops that use a mapping name a live one
/// (by its creating step, resolved to a <see cref="LiveRef"/>), with a small share of raw bus
/// addresses for misuse. Only the kinds enabled in the case's swarm are drawn. Beside the
/// uniform draws, aimed ones (<see cref="Boundaries"/>, weight
/// <see cref="GenerationOptions.AimWeight"/>) land on the boundaries of the state as it is:
/// maps that fill, or miss by one granule, the gap the allocator fills next; buffers that end on
/// or one byte past a bypass limit; iommu-maps against reserved ranges and live leaves; accesses
/// at a mapping's end. Unmaps follow the case's <see cref="CaseShape"/>.
/// </summary>
public sealed class OpGen(PlatformConfig platform, GenerationOptions options)
{
    private static readonly DmaDirection[] Directions = [DmaDirection.ToDevice, DmaDirection.FromDevice, DmaDirection.Bidirectional];
    private readonly IReadOnlyList<ulong> _edges = BufferGen.Edges(platform);
    private readonly Gen<int> _device = Devices(platform);
    private readonly ulong[] _doorbells = Doorbells(platform);

    private static Gen<DmaDirection> Direction { get; } = Gen.Elements(Directions);

    public Gen<CaseOp> Next(CaseSimulator sim, OpKinds swarm, CaseShape? shape = null)
    {
        shape ??= CaseShape.Uniform;
        var state = sim.View;
        int aim = options.AimWeight;
        int live = state.MappingCount;
        bool has(OpKinds k) => (swarm & k) != 0;
        var choices = new List<(int, Gen<CaseOp>)>();
        if (has(OpKinds.Map)) choices.Add((20, MapOp()));
        if (has(OpKinds.Map) && aim > 0) choices.Add((aim, AimedMap(state, coherent: false)));
        if (has(OpKinds.Coherent) && aim > 0) choices.Add((1 + aim / 4, AimedMap(state, coherent: true)));
        if (has(OpKinds.MapSg)) choices.Add((10, MapSgOp()));
        if (has(OpKinds.MapSg) && aim > 0) choices.Add((1 + aim / 4, AimedSg()));
        if (has(OpKinds.Coherent)) choices.Add((5, CoherentOp()));
        if (has(OpKinds.Resource) && platform.Mmio.Count > 0) choices.Add((4, ResourceOp()));
        if (live > 0)
        {
            if (has(OpKinds.Unmap)) choices.Add((16, Freeing(sim, shape, UnmapOf)));
            if (has(OpKinds.Access)) choices.Add((14, OnLive(sim, AccessOf)));
            if (has(OpKinds.Access) && aim > 0) choices.Add((1 + aim / 2, OnLive(sim, (m, creator) => AccessAtEnd(state, m, creator))));
            if (has(OpKinds.Misuse)) choices.Add((4, OnLive(sim, MisuseOf)));
        }
        if (has(OpKinds.Access)) choices.Add((1, RawAccess()));
        if (has(OpKinds.Access) && sim.RecentlyUnmapped.Count > 0) choices.Add((6, AfterUnmap(sim.RecentlyUnmapped)));
        if (has(OpKinds.Misuse) && sim.RecentlyUnmapped.Count > 0) choices.Add((1, DoubleUnmap(sim.RecentlyUnmapped)));
        if (has(OpKinds.Msi) && _doorbells.Length > 0) choices.Add((2, MsiOp()));
        if (has(OpKinds.Flush) && !state.Domains.IsEmpty) choices.Add((3, Gen.Elements(state.AllDomains().Select(d => d.Id).ToArray()).Select(d => new CaseOp(new Flush(d)))));
        if (has(OpKinds.Tick)) choices.Add((3, Gen.Choose(0, 15).Select(ms => new CaseOp(new Tick((ulong)ms)))));
        if (has(OpKinds.SetMask)) choices.Add((2, SetMaskOp()));
        if (has(OpKinds.Domains)) choices.AddRange(DomainOps(state, aim));
        if (choices.Count == 0) choices.Add((1, MapOp()));
        return Gen.Frequency(choices.ToArray());
    }

    private Gen<int> Device => _device;

    /// <summary>Any device; generated ones (beyond the preset's) three times as often, since
    /// their odd masks and segment limits are what the preset's devices lack.</summary>
    private static Gen<int> Devices(PlatformConfig platform)
    {
        var preset = Presets.Get(platform.Preset).Devices.Select(d => d.Id).ToHashSet();
        var extra = platform.Devices.Where(d => !preset.Contains(d.Id)).Select(d => d.Id).ToArray();
        var all = Gen.Elements(platform.Devices.Select(d => d.Id).ToArray());
        return extra.Length == 0 ? all : Gen.Frequency((1, all), (1, Gen.Elements(extra)));
    }

    /// <summary>A map (or coherent allocation) aimed at a boundary of the device's path now: a
    /// length that fills or just misses the gap its domain's allocator fills next, on a
    /// granule-aligned buffer (superpage-aligned half the time when large, so superpages
    /// happen); or a buffer that ends on or just past a limit or window of its untranslated
    /// path (devices behind GART and TCE have both).</summary>
    private Gen<CaseOp> AimedMap(ModelState state, bool coherent) => Device.SelectMany(dev =>
    {
        var lengths = new List<Aimed>();
        Boundaries.MapLengths(state, dev, coherent, lengths);
        var bypass = AimedBypass(state, dev, coherent);
        if (lengths.Count == 0) return bypass;
        ulong granule = state.Device(dev) is { } d && state.DomainOf(d) is { } domain ? domain.Granule : BufferGen.Page;
        var translated =
            from aimed in Gen.Frequency(lengths.Select(a => (LengthWeight(a.Kind), Gen.Constant(a))).ToArray())
            from superpage in Draw.Chance(50)
            let alignment = superpage && aimed.Value >= BufferGen.Superpage ? Math.Min(RoundDownPow2(aimed.Value), 1UL << 30) : granule
            from phys in BufferGen.Ram(platform, _edges, aimed.Value + alignment)
            from dir in Direction
            let start = AlignUp(phys.Value, alignment)
            select coherent
                ? new CaseOp(new AllocCoherent(dev, new PhysAddr(start), aimed.Value))
                : new CaseOp(new Map(dev, new PhysAddr(start), aimed.Value, dir));
        return Gen.Frequency((3, translated), (1, bypass));
    });

    /// <summary>How often each aimed length is drawn: the largest fit most (repeated, it fills
    /// the gap, and a full gap is where the next map must go elsewhere), then the first misfit;
    /// the six size-class edges share one weight between them.</summary>
    private static int LengthWeight(AimKind kind) => kind switch
    {
        AimKind.LargestFit => 12,
        AimKind.FirstMisfit => 6,
        AimKind.OneGranuleShort => 3,
        _ => 1,
    };

    /// <summary>A scatterlist at the device's segment limits: a full max_segment_size entry and a
    /// one-byte one (merged, one byte too long), or an entry that ends one granule before a
    /// segment boundary followed by a two-granule one (it must be padded past the boundary).</summary>
    private Gen<CaseOp> AimedSg() => Device.SelectMany(dev =>
    {
        var config = platform.Device(dev)!;
        ulong max = config.MaxSegmentSize, unit = config.SegmentBoundaryMask == ulong.MaxValue ? 0 : config.SegmentBoundaryMask + 1;
        var shapes = new List<(ulong First, ulong Second)>();
        if (max is >= BufferGen.Page and <= 0x10_0000) shapes.Add((max, 1));
        if (unit >= 2 * BufferGen.Page && unit - BufferGen.Page <= max && 2 * BufferGen.Page <= max) shapes.Add((unit - BufferGen.Page, 2 * BufferGen.Page));
        if (shapes.Count == 0) return MapSgOp();
        return from shape in Gen.Elements(shapes.ToArray())
               from a in BufferGen.Ram(platform, _edges, shape.First + BufferGen.Page)
               from b in BufferGen.Ram(platform, _edges, shape.Second + BufferGen.Page)
               from dir in Direction
               select new CaseOp(new MapSg(dev, ValueList.Of(
                   new SgEntry(new PhysAddr(AlignUp(a.Value, BufferGen.Page)), shape.First),
                   new SgEntry(new PhysAddr(AlignUp(b.Value, BufferGen.Page)), shape.Second)), dir));
    });

    /// <summary>A buffer on a boundary of the device's untranslated path, or a plain map when it has none.</summary>
    private Gen<CaseOp> AimedBypass(ModelState state, int dev, bool coherent)
    {
        var length = coherent ? Gen.Choose(1, 16).Select(p => (ulong)p * BufferGen.Page) : BufferGen.Length;
        return length.SelectMany(len =>
        {
            var starts = new List<Aimed>();
            Boundaries.BypassBuffers(state, dev, len, coherent, starts);
            if (coherent) starts.RemoveAll(a => a.Value % BufferGen.Page != 0);
            if (starts.Count == 0) return coherent ? CoherentOp() : MapOp();
            return from aimed in Gen.Elements(starts.ToArray())
                   from dir in Direction
                   select coherent
                       ? new CaseOp(new AllocCoherent(dev, new PhysAddr(aimed.Value), len))
                       : new CaseOp(new Map(dev, new PhysAddr(aimed.Value), len, dir));
        });
    }

    private static ulong AlignUp(ulong value, ulong alignment) => (value + alignment - 1) & ~(alignment - 1);

    private static ulong RoundDownPow2(ulong v) => 1UL << (63 - System.Numerics.BitOperations.LeadingZeroCount(v));

    /// <summary>An access at a live mapping's end: its last byte, across it, one past it, the
    /// last byte of its last granule, the next granule.</summary>
    private static Gen<CaseOp> AccessAtEnd(ModelState state, DmaMapping m, int creator)
    {
        ulong granule = m.Parts.FirstOrDefault(p => p.Domain is not null) is { Domain: int id } && state.Domain(id) is { } domain ? domain.Granule : BufferGen.Page;
        var ends = new List<(ulong Offset, ulong Length)>();
        Boundaries.MappingEnds(m.Size, granule, ends);
        return from end in Gen.Elements(ends.ToArray())
               from write in Gen.Elements(true, false)
               select new CaseOp(new DeviceAccess(m.Device, new LiveRef(0, end.Offset), end.Length, write), creator);
    }

    /// <summary>An unmap in the case's free order, of a churn mapping when there is one (the
    /// long-lived ones stay while anything else can go).</summary>
    private Gen<CaseOp> Freeing(CaseSimulator sim, CaseShape shape, Func<DmaMapping, int, Gen<CaseOp>> make)
    {
        if (shape.LongLivedPercent == 0 && shape.Order == FreeOrder.Random) return OnLive(sim, make);
        var state = sim.View;
        int count = state.MappingCount;
        const int Probes = 32;
        DmaMapping? At(int i) => state.Mappings.TryElementAt(i, out var e) ? e.Value : null;
        DmaMapping? chosen = shape.Order switch
        {
            FreeOrder.Lifo => FirstChurn(Enumerable.Range(0, Math.Min(count, Probes)).Select(k => At(count - 1 - k)), shape) ?? At(count - 1),
            FreeOrder.Fifo => FirstChurn(Enumerable.Range(0, Math.Min(count, Probes)).Select(At), shape) ?? At(0),
            FreeOrder.ByDevice => NextDevicesOldest(sim, shape),
            _ => null,
        };
        if (chosen is not null) return make(chosen, sim.CreatorOf(chosen));
        return Gen.Choose(0, count - 1).SelectMany(i =>
        {
            var m = FirstChurn(Enumerable.Range(0, Math.Min(count, Probes)).Select(k => At((i + k) % count)), shape) ?? At(i)!;
            return make(m, sim.CreatorOf(m));
        });
    }

    private static DmaMapping? FirstChurn(IEnumerable<DmaMapping?> candidates, CaseShape shape) =>
        candidates.FirstOrDefault(m => m is not null && !shape.IsLongLived(m.Id));

    /// <summary>By device: the oldest churn mapping of the next device after the one that freed last.</summary>
    private DmaMapping? NextDevicesOldest(CaseSimulator sim, CaseShape shape)
    {
        var state = sim.View;
        var ids = state.Platform.DeviceIds;
        int start = 0;
        for (int i = 0; i < ids.Length; i++)
            if (ids[i] == sim.LastUnmappedDevice) start = i + 1;
        for (int k = 0; k < ids.Length; k++)
        {
            int dev = ids[(start + k) % ids.Length];
            int n = Math.Min(state.MappingCountOf(dev), 16);
            for (int j = 0; j < n; j++)
                if (state.LiveMapping(dev, j) is { } m && !shape.IsLongLived(m.Id)) return m;
        }
        return null;
    }

    private Gen<CaseOp> MapOp() =>
        from dev in Device
        from len in BufferGen.Length
        from phys in BufferGen.Ram(platform, _edges, len)
        from dir in Direction
        from attrs in Gen.Frequency((9, Gen.Constant(DmaAttrs.None)), (1, Gen.Elements(DmaAttrs.SkipCpuSync, DmaAttrs.Privileged)))
        select new CaseOp(new Map(dev, phys, len, dir, attrs));

    private Gen<CaseOp> MapSgOp()
    {
        var entryLength = Gen.Frequency(
            (3, Gen.Choose(1, 32).Select(v => (ulong)v * 0x200)),
            (3, Gen.Choose(1, 16).Select(v => (ulong)v * BufferGen.Page)),
            (1, Gen.Choose(1, 0x800).Select(v => (ulong)v)));
        var entry = entryLength.SelectMany(len => BufferGen.Ram(platform, _edges, len).Select(p => new SgEntry(p, len)));
        // Physically adjacent, page-aligned pieces: what lets an IOMMU merge segments.
        var contiguous =
            from n in Gen.Choose(2, 8)
            from pages in Gen.Choose(1, 4)
            from start in BufferGen.Ram(platform, _edges, (ulong)(n * pages) * BufferGen.Page)
            select Enumerable.Range(0, n).Select(i => new SgEntry(new PhysAddr((start.Value & ~(BufferGen.Page - 1)) + (ulong)(i * pages) * BufferGen.Page), (ulong)pages * BufferGen.Page)).ToValueList();
        var scattered = Gen.Choose(1, 8).SelectMany(n => Gen.ArrayOf(entry, n)).Select(a => a.ToValueList());
        return from dev in Device
               from segs in Gen.Frequency((2, scattered), (1, contiguous))
               from dir in Direction
               select new CaseOp(new MapSg(dev, segs, dir));
    }

    private Gen<CaseOp> CoherentOp() =>
        from dev in Device
        from pages in Gen.Choose(1, 8)
        from phys in BufferGen.Ram(platform, _edges, (ulong)pages * BufferGen.Page)
        select new CaseOp(new AllocCoherent(dev, new PhysAddr(phys.Value & ~(BufferGen.Page - 1)), (ulong)pages * BufferGen.Page));

    private Gen<CaseOp> ResourceOp() =>
        from dev in Device
        from pages in Gen.Choose(1, 4)
        from phys in BufferGen.Mmio(platform, (ulong)pages * BufferGen.Page)
        from dir in Direction
        select new CaseOp(new MapResource(dev, phys, (ulong)pages * BufferGen.Page, dir));

    private Gen<CaseOp> MsiOp() =>
        from dev in Device
        from bell in Gen.Elements(_doorbells)
        from slot in Gen.Choose(0, 3)
        select new CaseOp(new SetupMsi(dev, new PhysAddr(bell + (ulong)slot * 0x40)));

    private Gen<CaseOp> SetMaskOp() =>
        from dev in Device
        from bits in Gen.Choose(24, 64)
        from coherentBits in Gen.Choose(24, bits)
        select new CaseOp(new SetMask(dev, Draw.BitMask(bits), Draw.BitMask(coherentBits)));

    private Gen<CaseOp> RawAccess() =>
        from dev in Device
        from phys in BufferGen.Ram(platform, _edges, 8)
        from write in Gen.Elements(true, false)
        select new CaseOp(new DeviceAccess(dev, new RawRef(phys.Value), 8, write));

    /// <summary>A device access through the raw address of a mapping already unmapped (INV-08:
    /// must fault on strict domains once the unmap returned).</summary>
    private static Gen<CaseOp> AfterUnmap(IReadOnlyList<DmaMapping> gone) =>
        from m in Gen.Elements(gone.ToArray())
        from offset in Draw.Between(0, m.Size - 1)
        from write in Gen.Elements(true, false)
        select new CaseOp(new DeviceAccess(m.Device, new RawRef(m.Dma.Value + offset), Math.Min(4UL, m.Size - offset), write));

    /// <summary>Unmapping a handle again (dma-debug: double unmap / unknown handle).</summary>
    private static Gen<CaseOp> DoubleUnmap(IReadOnlyList<DmaMapping> gone) =>
        Gen.Elements(gone.ToArray()).Select(m => new CaseOp(RawHandle(m.Kind switch
        {
            MappingKind.Single => new Unmap(m.Device, new LiveRef(0), m.Size, m.Direction),
            MappingKind.Sg => new UnmapSg(m.Device, new LiveRef(0), m.Nents, m.Direction),
            MappingKind.Coherent => new FreeCoherent(m.Device, new LiveRef(0), m.Size),
            _ => new UnmapResource(m.Device, new LiveRef(0), m.Size, m.Direction),
        }, m.Dma.Value)));

    /// <summary>An op on a live mapping, named by the step that made it.</summary>
    private Gen<CaseOp> OnLive(CaseSimulator sim, Func<DmaMapping, int, Gen<CaseOp>> make)
    {
        var live = sim.View.Mappings;
        return Gen.Choose(0, live.Count - 1).SelectMany(i =>
        {
            live.TryElementAt(i, out var entry);
            return make(entry.Value, sim.CreatorOf(entry.Value));
        });
    }

    private Gen<CaseOp> UnmapOf(DmaMapping m, int creator)
    {
        var handle = new LiveRef(0);
        Op op = m.Kind switch
        {
            MappingKind.Single => new Unmap(m.Device, handle, m.Size, m.Direction),
            MappingKind.Sg => new UnmapSg(m.Device, handle, m.Nents, m.Direction),
            MappingKind.Coherent => new FreeCoherent(m.Device, handle, m.Size),
            _ => new UnmapResource(m.Device, handle, m.Size, m.Direction),
        };
        return Draw.Chance(options.RawAddressPercent).Select(raw => raw
            ? new CaseOp(RawHandle(op, m.Dma.Value))
            : new CaseOp(op, creator));
    }

    private Gen<CaseOp> AccessOf(DmaMapping m, int creator) =>
        from offset in Draw.Between(0, m.Size - 1)
        from len in Gen.Choose(1, 16)
        from write in Gen.Elements(true, false)
        from raw in Draw.Chance(options.RawAddressPercent)
        let length = Math.Min((ulong)len, m.Size - offset)
        select raw
            ? new CaseOp(new DeviceAccess(m.Device, new RawRef(m.Dma.Value + offset), length, write))
            : new CaseOp(new DeviceAccess(m.Device, new LiveRef(0, offset), length, write), creator);

    /// <summary>dma-debug misuse: wrong size, wrong direction, wrong function, a stale raw handle.</summary>
    private Gen<CaseOp> MisuseOf(DmaMapping m, int creator)
    {
        var handle = new LiveRef(0);
        var wrongDirection = Directions.Append(DmaDirection.None).First(d => d != m.Direction);
        return Gen.Choose(0, 4).Select(kind => kind switch
        {
            0 => new CaseOp(m.Kind == MappingKind.Coherent
                ? new FreeCoherent(m.Device, handle, m.Size + BufferGen.Page)
                : new Unmap(m.Device, handle, m.Size > 1 ? m.Size - 1 : m.Size + 1, m.Direction), creator),
            1 => new CaseOp(new Unmap(m.Device, handle, m.Size, wrongDirection), creator),
            2 => new CaseOp(m.Kind == MappingKind.Coherent
                ? new Unmap(m.Device, handle, m.Size, m.Direction)
                : new FreeCoherent(m.Device, handle, m.Size), creator),
            3 => new CaseOp(new UnmapSg(m.Device, handle, m.Nents + 1, m.Direction), creator),
            _ => new CaseOp(new Unmap(m.Device, new RawRef(m.Dma.Value + BufferGen.Page), m.Size, m.Direction)),
        });
    }

    private static Op RawHandle(Op op, ulong dma) => op switch
    {
        Unmap o => o with { Handle = new RawRef(dma) },
        UnmapSg o => o with { Handle = new RawRef(dma) },
        FreeCoherent o => o with { Handle = new RawRef(dma) },
        UnmapResource o => o with { Handle = new RawRef(dma) },
        _ => op,
    };

    /// <summary>Unmanaged (VFIO-like) domains: allocate, iommu-map, iommu-unmap, attach, and
    /// default-domain type changes.</summary>
    private IEnumerable<(int, Gen<CaseOp>)> DomainOps(ModelState state, int aim)
    {
        var paging = platform.Iommus.Where(i => i.Kind.HasPagingDomains).Select(i => i.Id).ToArray();
        if (paging.Length == 0) yield break;
        yield return (1, Gen.Elements(paging).Select(i => new CaseOp(new AllocDomain(i, DomainType.Unmanaged))));
        var unmanaged = state.AllDomains().Where(d => d.Type == DomainType.Unmanaged).ToArray();
        if (unmanaged.Length > 0)
        {
            yield return (3, from d in Gen.Elements(unmanaged)
                             from slot in Gen.Choose(0, 255)
                             from pages in Gen.Frequency((4, Gen.Choose(1, 4)), (1, Gen.Constant((int)(BufferGen.Superpage / d.Granule))))
                             let size = (ulong)pages * d.Granule
                             from phys in BufferGen.Ram(platform, _edges, size)
                             select new CaseOp(new IommuMap(d.Id, new Iova(0x1000_0000 + (ulong)slot * d.Granule), new PhysAddr(phys.Value & ~(d.Granule - 1)), size, Prot.Read | Prot.Write)));
            if (aim > 0)
                yield return (1 + aim / 4, from d in Gen.Elements(unmanaged)
                                           from pages in Gen.Frequency((4, Gen.Choose(1, 4)), (1, Gen.Constant((int)(BufferGen.Superpage / d.Granule))))
                                           let size = (ulong)pages * d.Granule
                                           from pick in Gen.Choose(0, int.MaxValue)
                                           from phys in BufferGen.Ram(platform, _edges, size)
                                           let iovas = AimedIovas(d, size, pick)
                                           from iova in iovas.Length > 0 ? Gen.Elements(iovas).Select(a => a.Value) : Gen.Constant(0x1000_0000UL)
                                           select new CaseOp(new IommuMap(d.Id, new Iova(iova), new PhysAddr(phys.Value & ~(d.Granule - 1)), size, Prot.Read | Prot.Write)));
            var mapped = unmanaged.Where(d => !d.Leaves.IsEmpty).ToArray();
            if (mapped.Length > 0)
                yield return (2, from d in Gen.Elements(mapped)
                                 from run in Gen.Choose(0, d.Leaves.Count - 1)
                                 from page in Gen.Choose(0, int.MaxValue)
                                 let leaf = LeafOf(d, run, page)
                                 select new CaseOp(new IommuUnmap(d.Id, new Iova(leaf.Iova), leaf.Size)));
            yield return (1, from dev in Device
                             from d in Gen.Elements(unmanaged)
                             select new CaseOp(new Attach(dev, d.Id)));
        }
        yield return (1, from dev in Device
                         from type in Gen.Elements(DomainType.Identity, DomainType.Dma, DomainType.DmaFq)
                         select new CaseOp(new SetDomainType(dev, type)));
    }

    private static Aimed[] AimedIovas(ModelDomain domain, ulong size, int pick)
    {
        var iovas = new List<Aimed>();
        Boundaries.IommuMapIovas(domain, size, pick, iovas);
        return [.. iovas];
    }

    /// <summary>A leaf of an unmanaged domain: the <paramref name="page"/>-th (modulo) of its <paramref name="run"/>-th run.</summary>
    private static Leaf LeafOf(ModelDomain domain, int run, int page)
    {
        domain.Leaves.TryElementAt(run, out var entry);
        var r = entry.Value;
        return r.LeafAt(r.Iova + (ulong)page % r.Count * r.PageSize);
    }

    private static ulong[] Doorbells(PlatformConfig platform) =>
        platform.Iommus.SelectMany(i => i.Regions).Where(r => r.Type == ReservedRegionType.Msi).Select(r => r.Range.Start)
            .Concat(platform.Mmio.Select(m => m.Start))
            .Distinct().ToArray();
}
