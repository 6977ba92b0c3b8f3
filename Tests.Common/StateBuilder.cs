using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Tests.Common;

/// <summary>
/// Test-only helper that builds <see cref="SystemState"/>s by hand the way a correct system
/// would leave them (until the model executor exists): domains with their reserved ranges and
/// direct mappings, single/sg/coherent mappings with their allocations and leaves, bypass
/// mappings and bounce slots. Tests then break one thing and check the report.
/// </summary>
public sealed class StateBuilder
{
    private int _nextMapping;
    private int _nextBounce;

    public SystemState State { get; }
    public PlatformConfig Platform => State.Platform;

    public StateBuilder(string preset)
    {
        var platform = Presets.Get(preset);
        State = new SystemState
        {
            Platform = platform,
            Devices = platform.Devices.Select(d => new DeviceState
            {
                Id = d.Id, DmaMask = d.DmaMask, CoherentMask = d.CoherentMask, BusDmaLimit = d.BusDmaLimit, Pci32First = d.IsPci,
            }).ToList(),
        };
    }

    public DeviceConfig Config(int device) => Platform.Device(device)!;
    public DeviceState Device(int device) => State.Device(device)!;

    /// <summary>A domain of <paramref name="iommu"/> with the devices attached; DMA-API
    /// domains get their reserved IOVA ranges and the 1:1 leaves of direct regions.</summary>
    public DomainState Domain(int id, int iommu, DomainType type, params int[] devices)
    {
        var cfg = Platform.Iommu(iommu)!;
        bool granular = cfg.Kind.HasBitmapWindow;
        var domain = new DomainState
        {
            Id = id, Iommu = iommu, Type = type, Format = cfg.Format, Aperture = cfg.Aperture, ForceAperture = cfg.ForceAperture,
            Policy = granular ? IovaPolicy.PageGranular : IovaPolicy.SizeAligned,
            AllocStart = Math.Max(cfg.ApertureStart, cfg.Format.Granule), IsDefault = true,
        };
        State.Domains.Add(domain);
        foreach (int dev in devices) Device(dev).Domain = id;
        if (domain.IsDmaApi)
        {
            var iommus = devices.Select(d => Config(d).Iommu).OfType<int>().Append(iommu).Distinct().Select(i => Platform.Iommu(i)!).ToList();
            foreach (var region in iommus.SelectMany(i => i.Regions).Distinct())
            {
                if (region.IsReservedInIovaSpace) domain.Reserved.Add(new ReservedIova(region.Range, region.Type.ToString()));
                if (region.IsIdentityMapped)
                {
                    ulong g = domain.Granule;
                    ulong start = region.Range.Start & ~(g - 1);
                    ulong last = region.Range.Last | (g - 1);
                    MapLeaves(domain, start, start, last - start + 1, region.Prot);
                }
            }
            if (devices.Any(d => Config(d).IsPci))
                foreach (var window in iommus.SelectMany(i => i.PciHostWindows).Distinct())
                    domain.Reserved.Add(new ReservedIova(window, "PCI host window"));
        }
        return domain;
    }

    /// <summary>iommu_map's greedy page sizes: the largest supported size that divides both
    /// addresses and fits in what is left.</summary>
    public static void MapLeaves(DomainState domain, ulong iova, ulong phys, ulong size, Prot prot)
    {
        while (size > 0)
        {
            ulong page = domain.Granule;
            for (int bit = 63; bit >= 0; bit--)
            {
                ulong s = 1UL << bit;
                if (domain.Format.SupportsPageSize(s) && s <= size && (iova | phys) % s == 0) { page = s; break; }
            }
            domain.Leaves.Add(iova, new Leaf(iova, phys, page, DmaRules.LeafPermissions(domain.Format.Format, prot)));
            iova += page;
            phys += page;
            size -= page;
        }
    }

    public static Prot ProtFor(MappingKind kind, DmaDirection dir) => kind == MappingKind.Coherent
        ? Prot.Read | Prot.Write
        : dir switch { DmaDirection.ToDevice => Prot.Read, DmaDirection.FromDevice => Prot.Write, _ => Prot.Read | Prot.Write };

    /// <summary>The leaf permissions a format encodes for the direction.</summary>
    public static Prot LeafProtFor(DomainState domain, MappingKind kind, DmaDirection dir) =>
        DmaRules.LeafPermissions(domain.Format.Format, ProtFor(kind, dir));

    private ulong LimitFor(int device, MappingKind kind, DomainState? domain)
    {
        var dev = Device(device);
        ulong limit = kind == MappingKind.Coherent ? dev.CoherentMask : dev.DmaMask;
        if (dev.BusDmaLimit != 0) limit = Math.Min(limit, dev.BusDmaLimit);
        if (domain is { ForceAperture: true }) limit = Math.Min(limit, domain.Aperture.Last);
        return limit;
    }

    private DmaMapping NewMapping(int device, MappingKind kind, ulong dma, ulong size, DmaDirection dir, ulong phys,
        DomainState? domain, List<MappingPart> parts) => new()
        {
            Id = _nextMapping++, Device = device, Kind = kind, Dma = new DmaAddr(dma), Size = size, Direction = dir,
            Phys = new PhysAddr(phys), Limit = LimitFor(device, kind, domain), UntrustedDevice = Config(device).Untrusted,
            Parts = parts, MaxSegmentSize = Config(device).MaxSegmentSize, SegmentBoundaryMask = Config(device).SegmentBoundaryMask,
        };

    /// <summary>The allocation a request of <paramref name="bytes"/> takes at <paramref name="iova"/>.</summary>
    public static AddrRange Allocate(DomainState domain, ulong iova, ulong bytes, AllocationOwner owner = AllocationOwner.Mapping)
    {
        var request = IovaSpace.RequestFor(domain, bytes, ulong.MaxValue, ulong.MaxValue);
        var range = AddrRange.FromLength(iova, request.Bytes);
        domain.Allocations.Add(new IovaAllocation(range, owner));
        return range;
    }

    /// <summary>A translated single/coherent/resource mapping at <paramref name="iova"/> (granule aligned).</summary>
    public DmaMapping Map(int device, DomainState domain, ulong iova, ulong phys, ulong length,
        DmaDirection dir = DmaDirection.Bidirectional, MappingKind kind = MappingKind.Single)
    {
        ulong g = domain.Granule;
        ulong off = phys % g;
        ulong bytes = (off + length + g - 1) / g * g;
        var allocation = Allocate(domain, iova, bytes);
        MapLeaves(domain, iova, phys - off, bytes, LeafProtFor(domain, kind, dir));
        var part = new MappingPart { Dma = iova + off, Length = length, Phys = phys, Domain = domain.Id, Allocation = allocation };
        var m = NewMapping(device, kind, iova + off, length, dir, phys, domain, [part]);
        State.Mappings.Add(m);
        return m;
    }

    /// <summary>An untrusted device's sub-granule buffer bounced through a swiotlb slot at
    /// <paramref name="slotPhys"/> (granule aligned) and mapped at <paramref name="iova"/>.</summary>
    public DmaMapping MapBounced(int device, DomainState domain, ulong iova, ulong phys, ulong length, ulong slotPhys,
        DmaDirection dir = DmaDirection.ToDevice)
    {
        ulong g = domain.Granule;
        ulong off = phys % g;
        ulong bytes = (off + length + g - 1) / g * g;
        var slot = new BounceSlot(_nextBounce++, device, AddrRange.FromLength(slotPhys, bytes), phys, slotPhys + off, length, PaddingZeroed: true);
        State.Bounces.Add(slot);
        var allocation = Allocate(domain, iova, bytes);
        MapLeaves(domain, iova, slotPhys, bytes, LeafProtFor(domain, MappingKind.Single, dir));
        var part = new MappingPart { Dma = iova + off, Length = length, Phys = slotPhys + off, Domain = domain.Id, Allocation = allocation, Bounce = slot.Id };
        var m = NewMapping(device, MappingKind.Single, iova + off, length, dir, phys, domain, [part]);
        State.Mappings.Add(m);
        return m;
    }

    /// <summary>A bypass mapping: dma = phys + <paramref name="offset"/> (the TCE DDW offset, or 0).</summary>
    public DmaMapping MapBypass(int device, ulong phys, ulong length, DmaDirection dir = DmaDirection.Bidirectional,
        ulong offset = 0, MappingKind kind = MappingKind.Single)
    {
        var part = new MappingPart { Dma = phys + offset, Length = length, Phys = phys };
        var m = NewMapping(device, kind, phys + offset, length, dir, phys, null, [part]);
        State.Mappings.Add(m);
        return m;
    }

    /// <summary>dma-direct falling back to swiotlb: the device gets the bounce buffer's address.</summary>
    public DmaMapping MapBypassBounced(int device, ulong phys, ulong length, ulong slotPhys, DmaDirection dir = DmaDirection.ToDevice)
    {
        var slot = new BounceSlot(_nextBounce++, device, AddrRange.FromLength(slotPhys, length), phys, slotPhys, length, PaddingZeroed: false);
        State.Bounces.Add(slot);
        var part = new MappingPart { Dma = slotPhys, Length = length, Phys = slotPhys, Bounce = slot.Id };
        var m = NewMapping(device, MappingKind.Single, slotPhys, length, dir, phys, null, [part]);
        State.Mappings.Add(m);
        return m;
    }

    /// <summary>iommu_dma_map_sg: one IOVA range for the list (no boundary padding needed by
    /// the tests' inputs) and __finalise_sg's merging of the output segments.</summary>
    public DmaMapping MapSg(int device, DomainState domain, ulong iova, DmaDirection dir, params (ulong Phys, ulong Length)[] inputs)
    {
        var cfg = Config(device);
        ulong g = domain.Granule;
        var parts = new List<MappingPart>();
        var segments = new List<DmaSegment>();
        ulong offset = 0, curLen = 0, segStart = 0;
        var layout = new List<(ulong Iova, ulong PhysPage, ulong Bytes)>();
        foreach (var (phys, len) in inputs)
        {
            ulong sOff = phys % g;
            ulong bytes = (sOff + len + g - 1) / g * g;
            ulong dma = iova + offset + sOff;
            bool merge = curLen != 0 && sOff == 0 && ((iova + offset) & cfg.SegmentBoundaryMask) != 0 && cfg.MaxSegmentSize - curLen >= len;
            if (merge) curLen += len;
            else
            {
                if (curLen != 0) segments.Add(new DmaSegment(new DmaAddr(segStart), curLen));
                segStart = dma;
                curLen = len;
            }
            parts.Add(new MappingPart { Dma = dma, Length = len, Phys = phys, Domain = domain.Id });
            layout.Add((iova + offset, phys - sOff, bytes));
            offset += bytes;
            if (len + sOff < bytes)
            {
                segments.Add(new DmaSegment(new DmaAddr(segStart), curLen));
                curLen = 0;
            }
        }
        if (curLen != 0) segments.Add(new DmaSegment(new DmaAddr(segStart), curLen));
        var allocation = Allocate(domain, iova, offset);
        foreach (var (at, physPage, bytes) in layout) MapLeaves(domain, at, physPage, bytes, LeafProtFor(domain, MappingKind.Sg, dir));
        parts = parts.Select(p => p with { Allocation = allocation }).ToList();
        ulong total = inputs.Aggregate(0UL, (s, i) => s + i.Length);
        var m = NewMapping(device, MappingKind.Sg, segments[0].Dma.Value, total, dir, inputs[0].Phys, domain, parts);
        var withSg = new DmaMapping
        {
            Id = m.Id, Device = m.Device, Kind = m.Kind, Dma = m.Dma, Size = m.Size, Direction = m.Direction, Phys = m.Phys,
            Nents = inputs.Length, Limit = m.Limit, UntrustedDevice = m.UntrustedDevice,
            Inputs = inputs.Select(i => new SgEntry(new PhysAddr(i.Phys), i.Length)).ToValueList(),
            Segments = segments.ToValueList(), Parts = parts, MaxSegmentSize = m.MaxSegmentSize, SegmentBoundaryMask = m.SegmentBoundaryMask,
        };
        State.Mappings.Add(withSg);
        return withSg;
    }

    /// <summary>Replaces a mapping by a modified copy (DmaMapping's fields are init-only).</summary>
    public DmaMapping Replace(DmaMapping old, Func<DmaMapping, DmaMapping> change)
    {
        var updated = change(old);
        State.Mappings[State.Mappings.IndexOf(old)] = updated;
        return updated;
    }

    public static DmaMapping With(DmaMapping m, List<MappingPart>? parts = null, ulong? limit = null, ValueList<DmaSegment>? segments = null,
        DmaDirection? direction = null, bool? untrusted = null, int? nents = null) => new()
        {
            Id = m.Id, Device = m.Device, Kind = m.Kind, Dma = m.Dma, Size = m.Size, Direction = direction ?? m.Direction,
            Phys = m.Phys, Nents = nents ?? m.Nents, Limit = limit ?? m.Limit, UntrustedDevice = untrusted ?? m.UntrustedDevice,
            Inputs = m.Inputs, Segments = segments ?? m.Segments, Parts = parts ?? [.. m.Parts],
            MaxSegmentSize = m.MaxSegmentSize, SegmentBoundaryMask = m.SegmentBoundaryMask,
        };
}
