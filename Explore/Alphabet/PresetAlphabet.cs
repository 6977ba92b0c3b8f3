using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Explore;

/// <summary>One op the search may take from a state, with its label for listings and the
/// implementation allocation to fail while it runs (0: none).</summary>
public sealed record Choice(Op Op, string Label, int FailNthAllocation = 0);

/// <summary>
/// The finite alphabet of one platform: the buffers to map (<see cref="BufferKind"/> per device,
/// by the path the device's DMA takes), scatter-gather shapes, the coherent, resource, MSI, mask
/// and domain choices; and, per state, the ops on what that state holds (each live mapping's
/// unmap, accesses and misuse, each unmapped handle's stale use, each domain's flush, armed
/// timers, unmanaged domains' leaves). Symmetric devices (<see cref="DeviceSymmetry"/>) get the
/// same choices, so that renaming them maps one state's alphabet onto the other's.
/// Scope: maps are offered while fewer than <see cref="MaxLive"/> mappings are live, one
/// unmanaged domain at most (the small-scope bound that keeps depth 6 within a minute).
/// </summary>
public sealed class PresetAlphabet
{
    /// <summary>An unmanaged domain's IOVAs for iommu_map: one granule, one superpage.</summary>
    public const ulong UserIova = 0x1000_0000, UserSuperIova = 0x4000_0000;
    private const ulong LargestSuperpage = 32UL << 20;
    /// <summary>The largest window fill (in granules) offered as a map: 64 MiB of 4 KiB pages.</summary>
    public const ulong MaxWindowFillGranules = 16384;

    private readonly List<Buffer> _buffers = [];
    private readonly List<Choice> _fixed = [];
    private readonly List<(int Device, ValueList<SgEntry> Entries, string Label)> _sgs = [];
    private readonly Dictionary<int, int> _defaultDomain = [];
    private readonly int _domainDevice = -1, _typeDevice = -1;
    private readonly int _userIommu = -1;
    private readonly ulong _userPhys, _userSuperPhys, _superpage, _granule;

    private PresetAlphabet(PlatformConfig platform, ModelSystem model, ExploreOpKinds kinds, int maxLive, DeviceSymmetry symmetry, int? boundaryDevice)
    {
        Platform = platform;
        Kinds = kinds;
        MaxLive = maxLive;
        Symmetry = symmetry;
        BoundaryDevice = boundaryDevice;
        var initial = model.View;
        foreach (var d in initial.Devices)
            if (d.Domain is int dom) _defaultDomain[d.Id] = dom;

        var firstIommu = platform.Iommus.FirstOrDefault();
        _granule = firstIommu?.Format.Granule ?? 0x1000;
        _superpage = SmallestSuperpage(firstIommu?.Format);
        var place = new BufferPlacement(platform, _superpage);

        // Buffers per device by the path its DMA takes; symmetric devices copy their representative.
        var roles = platform.Devices.Where(d => d.Id != boundaryDevice).ToDictionary(d => d.Id, d => RoleOf(initial, d));
        int firstTranslatedPci = roles.Where(r => r.Value == Role.Translated && platform.Device(r.Key)!.IsPci && !platform.Device(r.Key)!.Untrusted)
            .Select(r => r.Key).DefaultIfEmpty(-1).Min();
        int narrowest = roles.Where(r => r.Value is Role.Translated or Role.Window && !platform.Device(r.Key)!.Untrusted)
            .OrderBy(r => Limit(platform.Device(r.Key)!)).ThenBy(r => r.Key).Select(r => r.Key).DefaultIfEmpty(-1).First();
        foreach (var device in platform.Devices.OrderBy(d => d.Id))
        {
            if (device.Id == boundaryDevice) continue;
            if (symmetry.RepresentativeOf(device.Id) is int rep && rep != device.Id)
            {
                foreach (var b in _buffers.Where(b => b.Device == rep).ToList()) _buffers.Add(b with { Device = device.Id });
                continue;
            }
            foreach (var kind in KindsFor(roles[device.Id], device, device.Id == firstTranslatedPci, device.Id == narrowest))
                if (Make(place, model, device, kind) is { } buffer)
                    _buffers.Add(buffer);
        }

        // Scatter-gather: physically contiguous granules on the boundary device (a merge across its
        // boundary is INV-09), sub-granule pieces on the first translated device.
        ulong contiguous = place.Slot(2 * _granule, _granule) ?? 0;
        if (boundaryDevice is int bd && contiguous != 0)
            _sgs.Add((bd, ValueList.Of(new SgEntry(new PhysAddr(contiguous), _granule), new SgEntry(new PhysAddr(contiguous + _granule), _granule)), "two contiguous granules across the device's segment boundary"));
        int sgDevice = firstTranslatedPci >= 0 ? firstTranslatedPci : platform.Devices.Where(d => d.Id != boundaryDevice).Min(d => d.Id);
        if (place.Slot(4 * _granule, _granule) is ulong pieces)
            foreach (int dev in symmetry.WithPartners(sgDevice))
                _sgs.Add((dev, ValueList.Of(new SgEntry(new PhysAddr(pieces + 0x100), 0x200), new SgEntry(new PhysAddr(pieces + 2 * _granule + 0x300), 0x100)), "two sub-granule pieces of different pages"));

        int anyDevice = platform.Devices.Where(d => d.Id != boundaryDevice).Min(d => d.Id);
        if (place.Slot(_granule, _granule) is ulong coherent)
            foreach (int dev in symmetry.WithPartners(anyDevice))
                _fixed.Add(new Choice(new AllocCoherent(dev, new PhysAddr(coherent), _granule), "coherent: one granule"));
        if (platform.Mmio.FirstOrDefault() is { } mmio)
            foreach (int dev in symmetry.WithPartners(anyDevice))
                _fixed.Add(new Choice(new MapResource(dev, new PhysAddr(mmio.Start), _granule, DmaDirection.Bidirectional), "resource: an MMIO granule (peer-to-peer)"));
        if (Doorbell(platform) is ulong bell)
        {
            int msiDevice = platform.Devices.Where(d => d.Id != boundaryDevice && d.Iommu is not null).Select(d => d.Id).DefaultIfEmpty(anyDevice).Min();
            foreach (int dev in symmetry.WithPartners(msiDevice))
                _fixed.Add(new Choice(new SetupMsi(dev, new PhysAddr(bell)), "msi: compose a message for the doorbell"));
        }
        // The first device with a 32-bit mask widens it (on PowerPC: the direct dynamic window).
        if (platform.Devices.Where(d => d.Id != boundaryDevice && d.DmaMask == uint.MaxValue).Select(d => d.Id).DefaultIfEmpty(-1).Min() is int narrow and >= 0)
            foreach (int dev in symmetry.WithPartners(narrow))
                _fixed.Add(new Choice(new SetMask(dev, ulong.MaxValue, ulong.MaxValue), "mask: 32 → 64 bits"));

        // Domains: an unmanaged domain on the first paging IOMMU; the last trusted translated
        // device moves to it and back; the first translated PCI device changes its group type.
        if (platform.Iommus.FirstOrDefault(i => i.Kind.HasPagingDomains) is { } paging)
        {
            _userIommu = paging.Id;
            _domainDevice = roles.Where(r => r.Value == Role.Translated && platform.Device(r.Key)!.Iommu == paging.Id && !platform.Device(r.Key)!.Untrusted
                                             && symmetry.RepresentativeOf(r.Key) is null)
                .Select(r => r.Key).DefaultIfEmpty(-1).Max();
            _typeDevice = firstTranslatedPci >= 0 && symmetry.RepresentativeOf(firstTranslatedPci) is null ? firstTranslatedPci : -1;
            _userPhys = place.Slot(_granule, _granule) ?? 0;
            _userSuperPhys = _superpage != 0 ? place.Slot(_superpage, _superpage) ?? 0 : 0;
        }
    }

    public PlatformConfig Platform { get; }
    public ExploreOpKinds Kinds { get; }
    public int MaxLive { get; }
    public DeviceSymmetry Symmetry { get; }
    /// <summary>The device added for segment boundaries (see <see cref="ExplorePlatform"/>), if any.</summary>
    public int? BoundaryDevice { get; }
    public IReadOnlyList<Buffer> Buffers => _buffers;

    /// <summary>The alphabet of <paramref name="platform"/> (built by <see cref="ExplorePlatform"/>).</summary>
    public static PresetAlphabet Build(PlatformConfig platform, ModelOptions modelOptions, ExploreOpKinds kinds, int maxLive, int? boundaryDevice)
    {
        var model = new ModelSystem(platform, modelOptions);
        return new PresetAlphabet(platform, model, kinds, maxLive, DeviceSymmetry.Of(platform, boundaryDevice), boundaryDevice);
    }

    private bool Has(ExploreOpKinds kind) => (Kinds & kind) != 0;

    /// <summary>Every op the search takes from <paramref name="state"/>, in a fixed order.</summary>
    public List<Choice> Next(ModelState state)
    {
        var next = new List<Choice>(48);
        bool room = state.MappingCount < MaxLive;
        if (room && Has(ExploreOpKinds.Map))
            foreach (var b in _buffers)
                AddWithFault(next, b.ToMap(), $"map {b.Kind} dev={b.Device}", allocates: _defaultDomain.ContainsKey(b.Device));
        if (room && Has(ExploreOpKinds.Sg))
            foreach (var (dev, entries, label) in _sgs)
                AddWithFault(next, new MapSg(dev, entries, DmaDirection.ToDevice), $"map-sg dev={dev}: {label}", allocates: _defaultDomain.ContainsKey(dev));
        if (room)
            foreach (var c in _fixed)
            {
                var kind = c.Op switch { AllocCoherent => ExploreOpKinds.Coherent, MapResource => ExploreOpKinds.Resource, SetupMsi => ExploreOpKinds.Msi, _ => ExploreOpKinds.Mask };
                if (Has(kind)) AddWithFault(next, c.Op, c.Label, allocates: kind != ExploreOpKinds.Mask && _defaultDomain.ContainsKey(DeviceOf(c.Op)));
            }
        else if (Has(ExploreOpKinds.Mask))
            next.AddRange(_fixed.Where(c => c.Op is SetMask));

        foreach (var dev in state.Devices)
        {
            int index = 0;
            foreach (var m in state.MappingsOf(dev.Id))
            {
                LiveOps(next, m, index);
                index++;
            }
            if (state.Unmapped.TryGetValue(dev.Id, out var gone) && gone.Count > 0)
                StaleOps(next, dev.Id, gone);
        }
        if (Has(ExploreOpKinds.Flush))
            foreach (var d in state.AllDomains())
                if (d.FlushQueueCount > 0 || !d.Iotlb.IsEmpty)
                    next.Add(new Choice(new Flush(d.Id), $"flush domain {d.Id}"));
        if (Has(ExploreOpKinds.Tick) && !state.ArmedTimers.IsEmpty)
        {
            next.Add(new Choice(new Tick(ModelSystem.FlushQueueTimeoutMs - 1), "tick: 1 ms before the flush deadline"));
            next.Add(new Choice(new Tick(ModelSystem.FlushQueueTimeoutMs), "tick: the flush deadline"));
        }
        if (Has(ExploreOpKinds.Domains)) DomainOps(next, state);
        if (Has(ExploreOpKinds.Iommu)) IommuOps(next, state);
        return next;
    }

    private void AddWithFault(List<Choice> next, Op op, string label, bool allocates)
    {
        next.Add(new Choice(op, label));
        if (allocates && Has(ExploreOpKinds.Fault)) next.Add(new Choice(op, label + " (1st allocation fails)", FailNthAllocation: 1));
    }

    private void LiveOps(List<Choice> next, DmaMapping m, int index)
    {
        var handle = new LiveRef(index);
        string what = $"#{index} of dev {m.Device}";
        if (Has(ExploreOpKinds.Unmap)) next.Add(new Choice(UnmapOf(m, handle), $"unmap {what}"));
        if (Has(ExploreOpKinds.Access))
        {
            next.Add(new Choice(new DeviceAccess(m.Device, handle, 1, false), $"read first byte of {what}"));
            next.Add(new Choice(new DeviceAccess(m.Device, new LiveRef(index, m.Size - 1), 1, true), $"write last byte of {what}"));
        }
        if (Has(ExploreOpKinds.Misuse))
        {
            Op wrongSize = m.Kind switch
            {
                MappingKind.Sg => new UnmapSg(m.Device, handle, m.Nents + 1, m.Direction),
                MappingKind.Coherent => new FreeCoherent(m.Device, handle, m.Size + _granule),
                MappingKind.Resource => new UnmapResource(m.Device, handle, m.Size + 1, m.Direction),
                _ => new Unmap(m.Device, handle, m.Size > 1 ? m.Size - 1 : m.Size + 1, m.Direction),
            };
            next.Add(new Choice(wrongSize, $"unmap {what} with the wrong size"));
            var other = m.Direction == DmaDirection.ToDevice ? DmaDirection.FromDevice : DmaDirection.ToDevice;
            Op wrongOther = m.Kind switch
            {
                MappingKind.Coherent => new Unmap(m.Device, handle, m.Size, DmaDirection.Bidirectional),
                MappingKind.Sg => new UnmapSg(m.Device, handle, m.Nents, other),
                MappingKind.Resource => new UnmapResource(m.Device, handle, m.Size, other),
                _ => new Unmap(m.Device, handle, m.Size, other),
            };
            next.Add(new Choice(wrongOther, m.Kind == MappingKind.Coherent ? $"unmap {what} with the wrong function" : $"unmap {what} with the wrong direction"));
        }
    }

    private static Op UnmapOf(DmaMapping m, AddressRef handle) => m.Kind switch
    {
        MappingKind.Sg => new UnmapSg(m.Device, handle, m.Nents, m.Direction),
        MappingKind.Coherent => new FreeCoherent(m.Device, handle, m.Size),
        MappingKind.Resource => new UnmapResource(m.Device, handle, m.Size, m.Direction),
        _ => new Unmap(m.Device, handle, m.Size, m.Direction),
    };

    /// <summary>The two lowest unmapped handles of a device: a read through each (INV-08: it must
    /// fault once a strict unmap returned) and a second unmap of each (double unmap, INV-10).</summary>
    private void StaleOps(List<Choice> next, int device, IEnumerable<ulong> gone)
    {
        foreach (ulong handle in gone.Order().Take(2))
        {
            if (Has(ExploreOpKinds.Stale))
                next.Add(new Choice(new DeviceAccess(device, new RawRef(handle), 1, false), $"read through unmapped {Hex.Format(handle)} of dev {device}"));
            if (Has(ExploreOpKinds.Misuse))
                next.Add(new Choice(new Unmap(device, new RawRef(handle), _granule, DmaDirection.ToDevice), $"unmap {Hex.Format(handle)} of dev {device} again"));
        }
    }

    private void DomainOps(List<Choice> next, ModelState state)
    {
        if (_userIommu < 0) return;
        var user = state.AllDomains().FirstOrDefault(d => d.Type == DomainType.Unmanaged);
        if (user is null)
            next.Add(new Choice(new AllocDomain(_userIommu, DomainType.Unmanaged), $"alloc an unmanaged domain on IOMMU {_userIommu}"));
        if (_domainDevice >= 0 && state.Device(_domainDevice) is { } dev)
        {
            if (user is not null && dev.Domain != user.Id)
                next.Add(new Choice(new Attach(_domainDevice, user.Id), $"attach dev {_domainDevice} to the unmanaged domain"));
            if (dev.Domain is int now && _defaultDomain.TryGetValue(_domainDevice, out int home) && now != home && state.Domain(home) is not null)
                next.Add(new Choice(new Attach(_domainDevice, home), $"attach dev {_domainDevice} back to its default domain"));
        }
        if (_typeDevice >= 0 && state.Device(_typeDevice) is { } typed && state.DomainOf(typed) is { } current)
        {
            var other = current.Type == DomainType.Dma ? DomainType.DmaFq : DomainType.Dma;
            next.Add(new Choice(new SetDomainType(_typeDevice, other), $"set dev {_typeDevice}'s group type to {other}"));
            if (current.Type != DomainType.Identity)
                next.Add(new Choice(new SetDomainType(_typeDevice, DomainType.Identity), $"set dev {_typeDevice}'s group type to identity"));
        }
    }

    private void IommuOps(List<Choice> next, ModelState state)
    {
        foreach (var d in state.AllDomains())
        {
            if (d.Type != DomainType.Unmanaged) continue;
            const Prot rw = Prot.Read | Prot.Write;
            if (_userPhys != 0)
            {
                next.Add(new Choice(new IommuMap(d.Id, new Iova(UserIova), new PhysAddr(_userPhys), d.Granule, rw), $"iommu-map a granule in domain {d.Id}"));
                next.Add(new Choice(new IommuMap(d.Id, new Iova(UserIova + d.Granule / 2), new PhysAddr(_userPhys), d.Granule, rw), $"iommu-map at a misaligned IOVA in domain {d.Id}"));
            }
            if (_userSuperPhys != 0 && d.Format.SupportsPageSize(_superpage))
                next.Add(new Choice(new IommuMap(d.Id, new Iova(UserSuperIova), new PhysAddr(_userSuperPhys), _superpage, rw), $"iommu-map a superpage in domain {d.Id}"));
            foreach (var run in d.Leaves.InOrder())
            {
                var leaf = run.Value.LeafAt(run.Start);
                next.Add(new Choice(new IommuUnmap(d.Id, new Iova(leaf.Iova), leaf.Size), $"iommu-unmap the leaf at {Hex.Format(leaf.Iova)} of domain {d.Id}"));
                if (leaf.Size > d.Granule)
                    next.Add(new Choice(new IommuUnmap(d.Id, new Iova(leaf.Iova), d.Granule), $"iommu-unmap one granule of the large leaf at {Hex.Format(leaf.Iova)} of domain {d.Id}"));
            }
            foreach (var dev in state.DevicesIn(d.Id))
                next.Add(new Choice(new DeviceAccess(dev.Id, new RawRef(UserIova), 1, false), $"dev {dev.Id} reads IOVA {Hex.Format(UserIova)} of domain {d.Id}"));
        }
    }

    private static int DeviceOf(Op op) => op switch
    {
        AllocCoherent o => o.Device,
        MapResource o => o.Device,
        SetupMsi o => o.Device,
        SetMask o => o.Device,
        _ => -1,
    };

    // ----- building the buffers -----

    private enum Role { Translated, Window, Bypass }

    /// <summary>How a device's DMA reaches memory at the start: through a paging DMA domain
    /// (translated), a GART aperture or TCE window (window), or 1:1 (no IOMMU, identity domain,
    /// virtio without ACCESS_PLATFORM).</summary>
    private static Role RoleOf(ModelState initial, DeviceConfig config)
    {
        if (initial.Device(config.Id) is not { } dev || initial.DomainOf(dev) is not { } domain) return Role.Bypass;
        if (domain.Policy == IovaPolicy.PageGranular) return Role.Window;
        return domain.IsDmaApi ? Role.Translated : Role.Bypass;
    }

    private static IEnumerable<BufferKind> KindsFor(Role role, DeviceConfig device, bool firstTranslatedPci, bool narrowest)
    {
        switch (role)
        {
            case Role.Translated when device.Untrusted:
                yield return BufferKind.SubGranule;
                yield return BufferKind.Granule;
                break;
            case Role.Translated:
                if (firstTranslatedPci)
                {
                    yield return BufferKind.GranulePlusOne;
                    yield return BufferKind.Superpage;
                    yield return BufferKind.SuperpageOffPhys;
                }
                if (narrowest)
                {
                    yield return BufferKind.Largest;
                    yield return BufferKind.LargestPlusGranule;
                }
                if (!firstTranslatedPci && !narrowest) yield return BufferKind.Byte;
                break;
            case Role.Window:
                yield return BufferKind.AtLimit;
                yield return BufferKind.PastLimit;
                if (narrowest)
                {
                    yield return BufferKind.Largest;
                    yield return BufferKind.LargestPlusGranule;
                }
                else yield return BufferKind.GranulePlusOne;
                break;
            default:
                yield return BufferKind.AtLimit;
                yield return BufferKind.PastLimit;
                yield return BufferKind.Byte;
                break;
        }
    }

    private Buffer? Make(BufferPlacement place, ModelSystem model, DeviceConfig device, BufferKind kind)
    {
        ulong g = _granule;
        ulong limit = Limit(device);
        switch (kind)
        {
            case BufferKind.Byte:
                return place.Slot(g, g) is ulong a ? new Buffer(device.Id, kind, new PhysAddr(a + 0x10), 1, DmaDirection.FromDevice) : null;
            case BufferKind.SubGranule:
                return place.Slot(g, g) is ulong b ? new Buffer(device.Id, kind, new PhysAddr(b + 1), g - 1, DmaDirection.FromDevice) : null;
            case BufferKind.Granule:
                return place.Slot(g, g) is ulong c ? new Buffer(device.Id, kind, new PhysAddr(c), g, DmaDirection.ToDevice) : null;
            case BufferKind.GranulePlusOne:
                return place.Slot(2 * g, g) is ulong e ? new Buffer(device.Id, kind, new PhysAddr(e), g + 1, DmaDirection.ToDevice) : null;
            case BufferKind.Superpage when _superpage != 0:
                return place.Slot(_superpage, _superpage) is ulong s ? new Buffer(device.Id, kind, new PhysAddr(s), _superpage, DmaDirection.Bidirectional) : null;
            case BufferKind.SuperpageOffPhys when _superpage != 0:
                return place.Slot(_superpage + g, _superpage) is ulong o ? new Buffer(device.Id, kind, new PhysAddr(o + g), _superpage, DmaDirection.ToDevice) : null;
            case BufferKind.AtLimit when limit != ulong.MaxValue && limit >= g:
                return InRam(limit - g + 1, g) ? new Buffer(device.Id, kind, new PhysAddr(limit - g + 1), g, DmaDirection.Bidirectional) : null;
            case BufferKind.PastLimit when limit != ulong.MaxValue:
                return InRam(limit + 1, g) ? new Buffer(device.Id, kind, new PhysAddr(limit + 1), g, DmaDirection.ToDevice) : null;
            case BufferKind.Largest or BufferKind.LargestPlusGranule:
                if (LargestFit(model, device) is not (ulong phys, ulong length)) return null;
                return kind == BufferKind.Largest
                    ? new Buffer(device.Id, kind, new PhysAddr(phys), length, DmaDirection.Bidirectional)
                    : InRam(phys, length + g) ? new Buffer(device.Id, kind, new PhysAddr(phys), length + g, DmaDirection.Bidirectional) : null;
            default:
                return null;
        }
    }

    private bool InRam(ulong start, ulong length) =>
        AddrRange.TryFromLength(start, length, out var r) && Platform.IsRam(r) && !(Platform.SwiotlbPool is { } pool && pool.Overlaps(r));

    /// <summary>The longest granule multiple the model maps for the device at the start of the
    /// largest RAM range (so length, not RAM, is what fails next), and where.</summary>
    private (ulong Phys, ulong Length)? LargestFit(ModelSystem model, DeviceConfig device)
    {
        ulong g = _granule;
        var ram = Platform.Ram.OrderByDescending(r => r.Size).ThenBy(r => r.Start).First();
        ulong phys = BufferPlacement.AlignUp(ram.Start, 1UL << 30) is ulong aligned && ram.Contains(aligned) ? aligned : BufferPlacement.AlignUp(ram.Start, g);
        ulong room = ram.Last - phys + 1;
        bool Fits(ulong pages) =>
            pages * g <= room && model.DryRun(new Map(device.Id, new PhysAddr(phys), pages * g, DmaDirection.Bidirectional)) is Mapped;
        if (!Fits(1)) return null;
        // Powers of two first, then the granules between the last that fits and the first that does not.
        ulong lo = 1, hi = 2;
        while (hi * g <= room && Fits(hi)) { lo = hi; hi *= 2; }
        if (hi * g > room) return null; // RAM, not IOVA space, is the limit: no IOVA boundary to show
        while (hi - lo > 1)
        {
            ulong mid = lo + (hi - lo) / 2;
            if (Fits(mid)) lo = mid; else hi = mid;
        }
        // A window filled page by page (GART, TCE) costs the implementation a PTE per granule on
        // every such map; beyond this the search would spend its minute writing PTEs.
        var domain = model.View.Device(device.Id) is { } dev ? model.View.DomainOf(dev) : null;
        if (domain?.Policy == IovaPolicy.PageGranular && lo > MaxWindowFillGranules) return null;
        return (phys, lo * g);
    }

    private static ulong Limit(DeviceConfig d) => d.BusDmaLimit == 0 ? d.DmaMask : Math.Min(d.BusDmaLimit, d.DmaMask);

    private static ulong SmallestSuperpage(PageTableGeometry? format)
    {
        if (format is null) return 0;
        for (int bit = format.GranuleShift + 1; bit < 64; bit++)
        {
            ulong size = 1UL << bit;
            if ((format.PageSizes & size) != 0) return size <= LargestSuperpage ? size : 0;
        }
        return 0;
    }

    private static ulong? Doorbell(PlatformConfig platform)
    {
        var msi = platform.Iommus.SelectMany(i => i.Regions).FirstOrDefault(r => r.Type == ReservedRegionType.Msi);
        if (msi is not null) return msi.Range.Start;
        if (platform.Iommus.SelectMany(i => i.Regions).Any(r => r.Type == ReservedRegionType.SwMsi) && platform.Mmio.Count > 0)
            return platform.Mmio[0].Start;
        return null;
    }

    /// <summary>The choices of the starting state with their labels (what `--list-ops` prints).</summary>
    public IEnumerable<Choice> Describe(ModelState initial) => Next(initial);
}
