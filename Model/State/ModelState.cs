using System.Collections.Immutable;
using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>A device's run-time DMA state in the model (immutable; see <see cref="DeviceState"/>
/// for the meaning of each field).</summary>
public sealed record ModelDevice(int Id, ulong DmaMask, ulong CoherentMask, ulong BusDmaLimit, int? Domain, bool Pci32First, bool DdwActive);

/// <summary>
/// One domain in the model: the fields of <see cref="DomainState"/> on persistent structures.
/// <see cref="Occupied"/> holds every occupied range of the IOVA space — live allocations (with
/// their owner) and the union of the reserved ranges (owner null) — so placement, overlap and
/// completeness questions are O(log n). Page tables and cached walks are <see cref="PageRun"/>s.
/// </summary>
public sealed record ModelDomain
{
    public required int Id { get; init; }
    public required int Iommu { get; init; }
    public required DomainType Type { get; init; }
    public required PageTableGeometry Format { get; init; }
    public required AddrRange Aperture { get; init; }
    public bool ForceAperture { get; init; } = true;
    public IovaPolicy Policy { get; init; } = IovaPolicy.SizeAligned;
    public ulong AllocStart { get; init; }
    public bool IsDefault { get; init; }

    /// <summary>Reserved ranges as listed (a region or window each; they may overlap).</summary>
    public ImmutableList<ReservedIova> Reserved { get; init; } = [];
    /// <summary>Allocations (owner set) and the union of <see cref="Reserved"/> (owner null); disjoint.</summary>
    public IntervalTree<AllocationOwner?> Occupied { get; init; } = IntervalTree<AllocationOwner?>.Empty;
    public int AllocationCount { get; init; }
    public IntervalTree<PageRun> Leaves { get; init; } = IntervalTree<PageRun>.Empty;
    /// <summary>Cached walks per IOMMU.</summary>
    public ImmutableSortedDictionary<int, IntervalTree<PageRun>> Iotlb { get; init; } = ImmutableSortedDictionary<int, IntervalTree<PageRun>>.Empty;
    /// <summary>Pending unmaps in queue order (their counters never decrease along the queue).</summary>
    public ImmutableQueue<FlushQueueEntry> FlushQueue { get; init; } = [];
    public int FlushQueueCount { get; init; }
    public ulong FlushStarted { get; init; }
    public ulong FlushFinished { get; init; }
    public ulong? TimerDeadline { get; init; }
    public ImmutableList<MsiPage> MsiPages { get; init; } = [];
    public ulong MsiBump { get; init; }
    /// <summary>Which live mapping uses each allocation (keyed by the allocation's start): the
    /// way from a changed IOVA range back to the mappings whose translation it carries.</summary>
    public IntervalTree<int> Users { get; init; } = IntervalTree<int>.Empty;

    public ulong Granule => Format.Granule;
    public bool IsPaging => Type.IsPaging;
    public bool IsDmaApi => Type.IsDmaApi;

    /// <summary>The allocation that starts exactly at <paramref name="range"/> with that range.</summary>
    public IovaAllocation? AllocationAt(AddrRange range) =>
        Occupied.TryGet(range.Start, out var e) && e.Last == range.Last && e.Value is AllocationOwner owner
            ? new IovaAllocation(range, owner)
            : null;

    public IEnumerable<IovaAllocation> Allocations() =>
        Occupied.InOrder().Where(e => e.Value is not null).Select(e => new IovaAllocation(e.Range, e.Value!.Value));

    /// <summary>The leaf holding <paramref name="iova"/>, or null.</summary>
    public Leaf? LeafAt(ulong iova) =>
        Leaves.TryFindContaining(iova, out var e) ? e.Value.LeafAt(iova) : null;

    /// <summary>The run holding <paramref name="iova"/>, or null.</summary>
    public PageRun? RunAt(ulong iova) =>
        Leaves.TryFindContaining(iova, out var e) ? e.Value : null;

    public IEnumerable<PageRun> RunsOverlapping(AddrRange range) => Leaves.Overlapping(range).Select(e => e.Value);

    public bool AnyLeafIn(AddrRange range) => Leaves.AnyOverlapping(range.Start, range.Last);

    public IntervalTree<PageRun> IotlbOf(int iommu) => Iotlb.TryGetValue(iommu, out var t) ? t : IntervalTree<PageRun>.Empty;
}

/// <summary>
/// The whole model state as one immutable value: keeping a reference is a snapshot, restoring
/// one is an assignment. Live mappings are kept by id (creation order), per device (what a
/// <see cref="LiveRef"/> index counts) and per (device, handle) (what an unmap looks up).
/// <see cref="Export"/> gives the <see cref="SystemState"/> shape every system exports.
/// </summary>
public sealed record ModelState
{
    public required PlatformIndex Platform { get; init; }
    public ulong NowMs { get; init; }
    /// <summary>In the order of <see cref="PlatformIndex.DeviceIds"/>.</summary>
    public required ImmutableArray<ModelDevice> Devices { get; init; }
    public IntervalTree<ModelDomain> Domains { get; init; } = IntervalTree<ModelDomain>.Empty;
    public IntervalTree<DmaMapping> Mappings { get; init; } = IntervalTree<DmaMapping>.Empty;
    public ImmutableDictionary<int, IntervalTree<int>> MappingsByDevice { get; init; } = ImmutableDictionary<int, IntervalTree<int>>.Empty;
    public ImmutableDictionary<(int Device, ulong Dma), ImmutableArray<int>> MappingsByHandle { get; init; } =
        ImmutableDictionary<(int Device, ulong Dma), ImmutableArray<int>>.Empty;
    /// <summary>Live bounce slots by id, and by slot start (disjoint spans of the pool).</summary>
    public ImmutableDictionary<int, BounceSlot> Bounces { get; init; } = ImmutableDictionary<int, BounceSlot>.Empty;
    public IntervalTree<int> BounceSpans { get; init; } = IntervalTree<int>.Empty;
    /// <summary>Handles each device has unmapped and not been handed again (double-unmap detection).</summary>
    public ImmutableDictionary<int, ImmutableHashSet<ulong>> Unmapped { get; init; } = ImmutableDictionary<int, ImmutableHashSet<ulong>>.Empty;
    /// <summary>Domains whose flush-queue timer is armed.</summary>
    public ImmutableSortedSet<int> ArmedTimers { get; init; } = [];
    public int NextMappingId { get; init; }
    public int NextBounceId { get; init; }

    public ModelDevice? Device(int id) => Platform.DeviceIndex(id) is int i ? Devices[i] : null;

    public ModelDomain? Domain(int id) => Domains.TryGet((ulong)(uint)id, out var e) ? e.Value : null;

    public ModelDomain? DomainOf(ModelDevice device) => device.Domain is int id ? Domain(id) : null;

    public int NextDomainId => Domains.TryMax(out var last) ? (int)last.Start + 1 : 0;

    public int MappingCount => Mappings.Count;

    public int MappingCountOf(int device) => MappingsByDevice.TryGetValue(device, out var t) ? t.Count : 0;

    /// <summary>The device's <paramref name="index"/>-th live mapping in creation order.</summary>
    public DmaMapping? LiveMapping(int device, int index) =>
        MappingsByDevice.TryGetValue(device, out var ids) && ids.TryElementAt(index, out var e) ? Mapping(e.Value) : null;

    /// <summary>Where a live mapping stands among its device's live mappings (its LiveRef index).</summary>
    public int LiveIndexOf(DmaMapping mapping) =>
        MappingsByDevice.TryGetValue(mapping.Device, out var ids) ? ids.RankOf((ulong)(uint)mapping.Id) : -1;

    public DmaMapping? Mapping(int id) => Mappings.TryGet((ulong)(uint)id, out var e) ? e.Value : null;

    public IEnumerable<DmaMapping> MappingsOf(int device) =>
        MappingsByDevice.TryGetValue(device, out var ids) ? ids.InOrder().Select(e => Mapping(e.Value)!) : [];

    public IEnumerable<DmaMapping> AllMappings() => Mappings.InOrder().Select(e => e.Value);

    public ImmutableArray<int> MappingsAt(int device, ulong dma) =>
        MappingsByHandle.TryGetValue((device, dma), out var ids) ? ids : [];

    public IEnumerable<ModelDevice> DevicesIn(int domain)
    {
        foreach (var d in Devices)
            if (d.Domain == domain) yield return d;
    }

    public IEnumerable<ModelDomain> AllDomains() => Domains.InOrder().Select(e => e.Value);

    /// <summary>The <see cref="SystemState"/> shape of this state (a fresh, independent copy).</summary>
    public SystemState Export()
    {
        var state = new SystemState { Platform = Platform.Config, NowMs = NowMs };
        foreach (var d in Devices)
            state.Devices.Add(new DeviceState
            {
                Id = d.Id, DmaMask = d.DmaMask, CoherentMask = d.CoherentMask, BusDmaLimit = d.BusDmaLimit,
                Domain = d.Domain, Pci32First = d.Pci32First, DdwActive = d.DdwActive,
            });
        foreach (var domain in AllDomains())
            state.Domains.Add(ExportDomain(domain));
        foreach (var m in AllMappings())
            state.Mappings.Add(m.Clone());
        foreach (var slot in Bounces.Values.OrderBy(b => b.Id))
            state.Bounces.Add(slot);
        return state;
    }

    private static DomainState ExportDomain(ModelDomain d)
    {
        var leaves = new SortedList<ulong, Leaf>();
        foreach (var run in d.Leaves.InOrder())
            foreach (var leaf in run.Value.Leaves())
                leaves.Add(leaf.Iova, leaf);
        var domain = new DomainState
        {
            Id = d.Id, Iommu = d.Iommu, Type = d.Type, Format = d.Format, Aperture = d.Aperture,
            ForceAperture = d.ForceAperture, Policy = d.Policy, AllocStart = d.AllocStart, IsDefault = d.IsDefault,
            Allocations = [.. d.Allocations()],
            Reserved = [.. d.Reserved],
            Leaves = leaves,
            FlushQueue = [.. d.FlushQueue],
            FlushStarted = d.FlushStarted, FlushFinished = d.FlushFinished, TimerDeadline = d.TimerDeadline,
            MsiPages = [.. d.MsiPages], MsiBump = d.MsiBump,
        };
        foreach (var (iommu, tree) in d.Iotlb)
            foreach (var run in tree.InOrder())
                foreach (var leaf in run.Value.Leaves())
                    domain.Iotlb.Add(new IotlbEntry(iommu, leaf.Iova, leaf.Phys, leaf.Size, leaf.Prot));
        return domain;
    }
}

/// <summary>Lookups into a platform the model makes on every op, built once per platform.</summary>
public sealed class PlatformIndex
{
    private readonly Dictionary<int, int> _deviceIndex = [];
    private readonly Dictionary<int, DeviceConfig> _devices = [];
    private readonly Dictionary<int, IommuConfig> _iommus = [];

    public PlatformIndex(PlatformConfig config)
    {
        Config = config;
        var ids = new List<int>();
        foreach (var d in config.Devices.OrderBy(d => d.Id))
        {
            if (!_devices.TryAdd(d.Id, d)) continue;
            _deviceIndex[d.Id] = ids.Count;
            ids.Add(d.Id);
        }
        DeviceIds = [.. ids];
        foreach (var i in config.Iommus) _iommus.TryAdd(i.Id, i);
        Apertures = [.. config.Iommus.Where(i => i.Gart is not null).Select(i => i.Gart!.Aperture)];
        Ram = [.. config.Ram.OrderBy(r => r.Start)];
        Mmio = [.. config.Mmio.OrderBy(r => r.Start)];
    }

    public PlatformConfig Config { get; }
    public string Preset => Config.Preset;
    public ImmutableArray<int> DeviceIds { get; }
    public ImmutableArray<AddrRange> Apertures { get; }
    public ImmutableArray<AddrRange> Ram { get; }
    public ImmutableArray<AddrRange> Mmio { get; }

    public int? DeviceIndex(int id) => _deviceIndex.TryGetValue(id, out int i) ? i : null;
    public DeviceConfig? Device(int id) => _devices.GetValueOrDefault(id);
    public IommuConfig? Iommu(int id) => _iommus.GetValueOrDefault(id);
    public IommuConfig? IommuOf(DeviceConfig config) => config.Iommu is int i ? Iommu(i) : null;

    public bool IsRam(AddrRange r) => Within(Ram, r);
    public bool IsMmio(AddrRange r) => Within(Mmio, r);

    /// <summary>The memory range (RAM, or MMIO too) holding <paramref name="address"/>.</summary>
    public AddrRange? MemoryAt(ulong address, bool ramOnly)
    {
        foreach (var r in Ram) if (r.Contains(address)) return r;
        if (!ramOnly) foreach (var r in Mmio) if (r.Contains(address)) return r;
        return null;
    }

    private static bool Within(ImmutableArray<AddrRange> ranges, AddrRange r)
    {
        foreach (var m in ranges) if (m.Contains(r)) return true;
        return false;
    }
}
