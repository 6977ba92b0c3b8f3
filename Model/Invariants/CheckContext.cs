using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>
/// A tolerant, read-only view of a <see cref="SystemState"/> for the invariant checks: lookups
/// by id, the IOMMUs, regions and PCI windows that apply to a domain, and leaf indexes. It
/// never throws on a malformed state: missing collections read as empty, null items are
/// skipped, and duplicate ids resolve to their first occurrence (INV-07 reports duplicates).
/// </summary>
internal sealed class CheckContext
{
    private static readonly PlatformConfig NoPlatform = new() { Preset = "(none)", Ram = [], Devices = [] };

    private readonly Dictionary<int, DomainState> _domains = [];
    private readonly Dictionary<int, DeviceState> _devices = [];
    private readonly Dictionary<int, BounceSlot> _bounces = [];
    private readonly Dictionary<int, DeviceConfig> _configs = [];
    private readonly Dictionary<int, IommuConfig> _iommus = [];
    private readonly Dictionary<int, LeafIndex> _leafIndexes = [];
    private readonly Dictionary<int, List<DmaMapping>> _mappingsByDevice = [];

    public SystemState State { get; }
    public PlatformConfig Platform { get; }
    public bool HasPlatform { get; }
    public IReadOnlyList<DeviceState> Devices { get; }
    public IReadOnlyList<DomainState> Domains { get; }
    /// <summary>The domains whose own rules are judged (all, unless the caller scoped the check to
    /// the domains that changed since a state already judged clean); lookups see every domain.</summary>
    public IReadOnlyList<DomainState> JudgedDomains { get; }
    public IReadOnlyList<DmaMapping> Mappings { get; }
    public IReadOnlyList<BounceSlot> Bounces { get; }
    public IReadOnlyList<IommuConfig> Iommus { get; }

    public CheckContext(SystemState state, IReadOnlySet<int>? judgedDomains = null)
    {
        State = state;
        HasPlatform = state.Platform is not null;
        Platform = state.Platform ?? NoPlatform;
        Devices = NonNull(state.Devices);
        Domains = NonNull(state.Domains);
        Mappings = NonNull(state.Mappings);
        Bounces = NonNull(state.Bounces);
        Iommus = NonNull(Platform.Iommus);
        foreach (var d in Domains) _domains.TryAdd(d.Id, d);
        JudgedDomains = judgedDomains is null ? Domains : Domains.Where(d => judgedDomains.Contains(d.Id)).ToList();
        foreach (var d in Devices) _devices.TryAdd(d.Id, d);
        foreach (var b in Bounces) _bounces.TryAdd(b.Id, b);
        foreach (var d in NonNull(Platform.Devices)) _configs.TryAdd(d.Id, d);
        foreach (var i in Iommus) _iommus.TryAdd(i.Id, i);
        foreach (var m in Mappings)
        {
            if (!_mappingsByDevice.TryGetValue(m.Device, out var list))
                _mappingsByDevice[m.Device] = list = [];
            list.Add(m);
        }
    }

    /// <summary>The items without nulls; a list that holds no null is returned as it is.</summary>
    public static IReadOnlyList<T> NonNull<T>(IEnumerable<T?>? items) where T : class
    {
        if (items is null) return [];
        if (items is IReadOnlyList<T> list)
        {
            bool clean = true;
            for (int i = 0; i < list.Count && clean; i++) clean = list[i] is not null;
            if (clean) return list;
        }
        return items.Where(i => i is not null).Select(i => i!).ToList();
    }

    public DomainState? Domain(int? id) => id is int i && _domains.TryGetValue(i, out var d) ? d : null;
    public DeviceState? Device(int id) => _devices.TryGetValue(id, out var d) ? d : null;
    public DeviceConfig? Config(int deviceId) => _configs.TryGetValue(deviceId, out var d) ? d : null;
    public IommuConfig? Iommu(int? id) => id is int i && _iommus.TryGetValue(i, out var c) ? c : null;
    public BounceSlot? Bounce(int? id) => id is int i && _bounces.TryGetValue(i, out var b) ? b : null;

    /// <summary>The device's live mappings in creation order (what <see cref="LiveRef"/> indexes).</summary>
    public IReadOnlyList<DmaMapping> MappingsOf(int device) =>
        _mappingsByDevice.TryGetValue(device, out var list) ? list : [];

    public IEnumerable<DeviceState> DevicesIn(DomainState domain) => Devices.Where(d => d.Domain == domain.Id);

    /// <summary>The IOMMU a device sits behind, from the platform's device table.</summary>
    public IommuConfig? IommuOfDevice(int deviceId) => Iommu(Config(deviceId)?.Iommu);

    /// <summary>The IOMMUs of a domain: the one that created it plus those of the attached
    /// devices (several, when a page table is shared). Ids may name IOMMUs the platform lacks.</summary>
    public IReadOnlyList<int> IommusOf(DomainState domain)
    {
        var ids = new List<int> { domain.Iommu };
        foreach (var dev in DevicesIn(domain))
            if (Config(dev.Id)?.Iommu is int i && !ids.Contains(i))
                ids.Add(i);
        return ids;
    }

    /// <summary>Reserved regions the IOMMUs of the domain report (deduplicated).</summary>
    public IReadOnlyList<ReservedRegion> RegionsOf(DomainState domain) =>
        IommusOf(domain).Select(i => Iommu(i)).Where(i => i is not null)
            .SelectMany(i => NonNull(i!.Regions)).Distinct().ToList();

    /// <summary>PCI host-bridge windows reserved in this domain: those of the IOMMUs behind
    /// which the attached PCI devices sit (none when no PCI device is attached).</summary>
    public IReadOnlyList<AddrRange> PciWindowsOf(DomainState domain) =>
        DevicesIn(domain).Select(d => Config(d.Id)).Where(c => c is { IsPci: true })
            .Select(c => Iommu(c!.Iommu)).Where(i => i is not null)
            .SelectMany(i => i!.PciHostWindows ?? []).Distinct().ToList();

    public IReadOnlyList<IovaAllocation> AllocationsOf(DomainState domain) => NonNull(domain.Allocations);

    public IReadOnlyList<MappingPart> PartsOf(DmaMapping mapping) => NonNull(mapping.Parts);

    public LeafIndex LeavesOf(DomainState domain)
    {
        if (!_leafIndexes.TryGetValue(domain.Id, out var index) || Domain(domain.Id) != domain)
        {
            index = new LeafIndex(domain.Leaves?.Values);
            if (Domain(domain.Id) == domain) _leafIndexes[domain.Id] = index;
        }
        return index;
    }

    /// <summary>The device of the first live mapping whose part lives in this allocation.</summary>
    public int? DeviceUsing(DomainState domain, AddrRange allocation)
    {
        foreach (var m in Mappings)
            foreach (var p in PartsOf(m))
                if (p.Domain == domain.Id && p.Allocation is AddrRange a && a.Overlaps(allocation))
                    return m.Device;
        return null;
    }

    /// <summary>The domain's granule, or 0 when its format is missing or has no page sizes.</summary>
    public static ulong Granule(DomainState domain) => domain.Format?.Granule ?? 0;

    public static bool TryRange(ulong start, ulong length, out AddrRange range) =>
        AddrRange.TryFromLength(start, length, out range);

    /// <summary>The range aligned outward to a power-of-two granule.</summary>
    public static AddrRange Outward(AddrRange range, ulong granule) =>
        granule == 0 ? range : new AddrRange(range.Start & ~(granule - 1), range.Last | (granule - 1));

    public static string Describe(AddrRange? range) => range?.ToString() ?? "(none)";
}
