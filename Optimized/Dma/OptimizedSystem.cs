using DmaVerify.Contracts;
using DmaVerify.Optimized.Iova;
using DmaVerify.Optimized.PageTables;

namespace DmaVerify.Optimized.Dma;

/// <summary>
/// The fast implementation of every op: per-domain IOVA allocators and page tables,
/// dictionary IOTLBs, ring flush queues, dma-debug entries keyed by (device, dma). Every op
/// either succeeds or is unrolled through a small undo log (failure atomicity, INV-15); the
/// only effect kept on failure is a PCI device's cleared 32-bit-first flag (not on an injected
/// OutOfMemory, where nothing changes).
/// <para><b>Threads.</b> Safe for concurrent use: every op and every export runs under one
/// system lock (the undo log, the device and domain tables and the page tables are shared
/// state). The IOVA allocators have their own tree lock and per-thread magazines, so the lock
/// order is system → allocator slot → depot → tree.</para>
/// </summary>
public sealed partial class OptimizedSystem : ISystemUnderTest, IKnownIncompleteness
{
    public PlatformConfig Platform { get; }
    private TablePageAllocator _tablePages = new();
    private Dictionary<int, Dev> _devices = [];
    private SortedDictionary<int, Dom> _domains = [];
    private ulong _nowMs;
    private int _nextMappingId, _nextBounceId, _nextDomainId;
    private readonly List<Undo> _undo = [];
    private readonly List<Action> _kept = [];
    private readonly Lock _gate = new();

    public OptimizedSystem(PlatformConfig platform, OptimizedSystemOptions? options = null)
    {
        Platform = platform;
        Options = options ?? OptimizedSystemOptions.Optimized;
        BuildInitialState();
        _undo.Clear();
        _kept.Clear();
    }

    public OptimizedSystemOptions Options { get; }

    public string Name => Options.Name;

    /// <summary>Allocations LinuxStyle's max32 shortcut refused (zero with the augmented allocator).</summary>
    public Max32ShortcutLog Max32Shortcut { get; } = new();

    /// <summary>Test-only planted snapshot bugs (the snapshot tests show each is caught).</summary>
    internal enum SnapshotPlant
    {
        None,
        /// <summary>The copy shares the page tables with the original.</summary>
        SharedPageTables,
        /// <summary>The copy shares the IOVA allocators with the original.</summary>
        SharedAllocators,
        /// <summary>A foreign allocator is rebuilt from its factory without replaying its calls.</summary>
        ForeignNotReplayed,
        /// <summary>A restore leaves an armed FailNthTablePage armed.</summary>
        KeepsArmedFailure,
    }

    internal SnapshotPlant PlantedSnapshotBug { get; set; }

    /// <summary>Test-only planted bug: ops run without the system lock (the concurrency stress
    /// test shows that it then fails).</summary>
    internal bool PlantedBugNoLock { get; set; }

    /// <summary>Whether the catalog planted <paramref name="plant"/> in this system (never in real runs).</summary>
    private bool Planted(OptimizedPlant plant) => Options.Plant == plant;

    /// <summary>Makes the n-th page-table page allocation from now fail (1 = the next); ≤ 0 cancels.</summary>
    public void FailNthTablePage(int n)
    {
        lock (_gate) _tablePages.FailNth(n);
    }

    /// <summary>Table-page allocations attempted so far (for fault-injection loops).</summary>
    public long TablePageAttempts
    {
        get { lock (_gate) return _tablePages.Attempts; }
    }

    void ISystemUnderTest.FailNthAllocation(int n) => FailNthTablePage(n);
    long ISystemUnderTest.AllocationAttempts => TablePageAttempts;

    public string? KnownIncompletenessOfLastOp => Max32Shortcut.LastOpRefused
        ? "LinuxStyle's max32_alloc_size shortcut refused the allocation without walking the tree (known Linux incompleteness)"
        : null;
    public string KnownIncompletenessSummary => Max32Shortcut.ToString();

    public Outcome Apply(Op op)
    {
        if (PlantedBugNoLock) return ApplyLocked(op);
        lock (_gate) return ApplyLocked(op);
    }

    private Outcome ApplyLocked(Op op)
    {
        Max32Shortcut.LastOpRefused = false;
        _undo.Clear();
        _kept.Clear();
        Outcome outcome;
        try
        {
            outcome = Dispatch(op);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            outcome = new Failed(DmaErrorKind.InvalidArgument, $"internal error: {e.Message}");
        }
        if (!outcome.IsSuccess)
        {
            for (int i = _undo.Count - 1; i >= 0; i--) Revert(_undo[i]);
            if (outcome is not Failed { Kind: DmaErrorKind.OutOfMemory })
                foreach (var redo in _kept) redo();
        }
        _undo.Clear();
        _kept.Clear();
        return outcome;
    }

    /// <summary>One step of a failed op to take back. The steps every map takes are plain
    /// records (no closure allocated on the success path); rarer ones carry an action.</summary>
    private enum UndoKind : byte { Action, FreeIova, RemoveAllocation, UnmapLeaves, Unrecord }

    private readonly record struct Undo(UndoKind Kind, object? Target, ulong A, ulong B, Action? Action = null, object? Extra = null, bool Flag = false);

    private void Revert(in Undo u)
    {
        switch (u.Kind)
        {
            case UndoKind.FreeIova: ((IIovaAllocator)u.Target!).Free(u.A); break;
            case UndoKind.RemoveAllocation:
                if (!Planted(OptimizedPlant.FailedMapKeepsAllocation)) ((Dom)u.Target!).Allocations.Remove(u.A);
                break;
            case UndoKind.UnmapLeaves: ((Dom)u.Target!).Table.Unmap(u.A, u.B); break;
            case UndoKind.Unrecord:
            {
                var device = (Dev)u.Target!;
                var mapping = (DmaMapping)u.Extra!;
                device.Mappings.Remove(mapping);
                device.Unlist(mapping);
                if (u.Flag) device.Unmapped.Add(mapping.Dma.Value);
                _nextMappingId = mapping.Id;
                break;
            }
            default: u.Action!(); break;
        }
    }

    private Outcome Dispatch(Op op) => op switch
    {
        // the DMA API
        Map or AllocCoherent or MapResource => MapOne(op),
        MapSg o => DoMapSg(o),
        Unmap or UnmapSg or FreeCoherent or UnmapResource => Release(op),
        SetMask o => DoSetMask(o),
        // the IOMMU API: domains and explicit maps
        AllocDomain o => DoAllocDomain(o),
        Attach o => DoAttach(o),
        SetDomainType o => DoSetDomainType(o),
        IommuMap o => DoIommuMap(o),
        IommuUnmap o => DoIommuUnmap(o),
        // the device and the passing of time
        SetupMsi o => DoSetupMsi(o),
        DeviceAccess o => DoDeviceAccess(o),
        Tick o => DoTick(o),
        Flush o => DoFlush(o),
        _ => Fail(DmaErrorKind.InvalidArgument, $"unknown op {op?.GetType().Name}"),
    };

    /// <summary>dma_map_single, dma_alloc_coherent and dma_map_resource: one buffer, one mapping.</summary>
    private Outcome MapOne(Op op) => op switch
    {
        AllocCoherent o => MapSingle(o.Device, MappingKind.Coherent, o.Phys.Value, o.Size, DmaDirection.Bidirectional, coherent: true),
        MapResource o => MapSingle(o.Device, MappingKind.Resource, o.Phys.Value, o.Length, o.Direction, coherent: false),
        Map o => MapSingle(o.Device, MappingKind.Single, o.Phys.Value, o.Length, o.Direction, coherent: false),
        _ => throw new ArgumentException($"not a single-buffer map: {op}", nameof(op)),
    };

    /// <summary>The four releases: each names its mapping by handle with what the caller
    /// believes of it (kind, size, direction, entry count), which dma-debug checks.</summary>
    private Outcome Release(Op op) => op switch
    {
        FreeCoherent o => DoUnmap(o.Device, o.Handle, MappingKind.Coherent, o.Size, null, null),
        UnmapResource o => DoUnmap(o.Device, o.Handle, MappingKind.Resource, o.Length, o.Direction, null),
        UnmapSg o => DoUnmap(o.Device, o.Handle, MappingKind.Sg, null, o.Direction, o.Nents),
        Unmap o => DoUnmap(o.Device, o.Handle, MappingKind.Single, o.Length, o.Direction, null),
        _ => throw new ArgumentException($"not an unmap: {op}", nameof(op)),
    };

    private static Failed Fail(DmaErrorKind kind, string message) => new(kind, message);

    private void OnUndo(Action revert) => _undo.Add(new Undo(UndoKind.Action, null, 0, 0, revert));

    /// <summary>A device's run-time state plus its dma-debug entries.</summary>
    private sealed class Dev
    {
        public required DeviceConfig Config;
        public ulong DmaMask, CoherentMask, BusDmaLimit;
        public int? Domain;
        /// <summary>The DMA path's ops table, chosen when <see cref="Domain"/> last changed.</summary>
        public DmaOps Ops = DirectOps.Instance;
        public bool Pci32First, DdwActive;
        /// <summary>Live mappings in creation order (LiveRef indexes this list).</summary>
        public LiveMappings Mappings = new();
        /// <summary>dma-debug: live mappings by handle.</summary>
        public Dictionary<ulong, List<DmaMapping>> ByDma = [];
        public HashSet<ulong> Unmapped = [];
        public int Id => Config.Id;
        /// <summary>Emptied ByDma lists kept for the next handle (no allocation in steady state).</summary>
        private Stack<List<DmaMapping>> _spareLists = new();

        public List<DmaMapping> TakeList() => _spareLists.TryPop(out var list) ? list : [];

        /// <summary>Drops <paramref name="mapping"/> from the handle index.</summary>
        public void Unlist(DmaMapping mapping)
        {
            var list = ByDma[mapping.Dma.Value];
            list.Remove(mapping);
            if (list.Count != 0) return;
            ByDma.Remove(mapping.Dma.Value);
            if (_spareLists.Count < 64) _spareLists.Push(list);
        }

        /// <summary>An independent copy (the mapping records themselves never change).</summary>
        public Dev Clone()
        {
            var copy = (Dev)MemberwiseClone();
            copy.Mappings = Mappings.Clone();
            copy.ByDma = new Dictionary<ulong, List<DmaMapping>>(ByDma.Count);
            foreach (var (dma, list) in ByDma) copy.ByDma[dma] = [.. list];
            copy.Unmapped = [.. Unmapped];
            copy._spareLists = new();
            return copy;
        }
    }

    /// <summary>One translation context.</summary>
    private sealed class Dom
    {
        public required int Id, Iommu;
        public required DomainType Type;
        public required PageTableGeometry Format;
        public required AddrRange Aperture;
        public bool ForceAperture, IsDefault;
        public IovaPolicy Policy;
        public ulong AllocStart;
        public required IPageTable Table;
        /// <summary>Table pages a lazy unmap detached; freed after the next IOTLB flush.</summary>
        public TableFreeList PendingFree = new();
        /// <summary>SizeAligned domains: the augmented tree (PFN units).</summary>
        public IIovaAllocator? Iova;
        /// <summary>PageGranular domains (GART aperture, TCE window): granule spans of the window.</summary>
        public SpanAllocator? Window;
        /// <summary>Every allocation by start (mapping, MSI page, flush-queue owner).</summary>
        public SortedDictionary<ulong, IovaAllocation> Allocations = [];
        public List<ReservedIova> Reserved = [];
        public Dictionary<(int Iommu, ulong Iova), IotlbEntry> Iotlb = [];
        public Queue<FlushQueueEntry> FlushQueue = new();
        public ulong FlushStarted, FlushFinished;
        public ulong? TimerDeadline;
        public Dictionary<ulong, MsiPage> MsiPages = [];
        public ulong MsiBump;
        public ulong Granule => Format.Granule;
        public bool IsDmaApi => Type.IsDmaApi;

        /// <summary>An independent copy whose page table lives in <paramref name="pages"/>
        /// (a clone of the system's table-page allocator).</summary>
        public Dom CloneOnto(TablePageAllocator pages, SnapshotPlant plant)
        {
            var copy = (Dom)MemberwiseClone();
            copy.Table = plant == SnapshotPlant.SharedPageTables ? Table : Table.CloneOnto(pages);
            copy.PendingFree = PendingFree.CloneOnto(pages);
            copy.Iova = Iova switch
            {
                null => null,
                _ when plant == SnapshotPlant.SharedAllocators => Iova,
                ReplayedIovaAllocator foreign when plant == SnapshotPlant.ForeignNotReplayed => foreign.RebuiltWithoutReplayForTest(),
                _ => ((ICloneableIovaAllocator)Iova).Clone(),
            };
            copy.Window = plant == SnapshotPlant.SharedAllocators ? Window : Window?.Clone();
            copy.Allocations = new SortedDictionary<ulong, IovaAllocation>(Allocations);
            copy.Reserved = [.. Reserved];
            copy.Iotlb = new Dictionary<(int, ulong), IotlbEntry>(Iotlb);
            copy.FlushQueue = new Queue<FlushQueueEntry>(FlushQueue);
            copy.MsiPages = new Dictionary<ulong, MsiPage>(MsiPages);
            return copy;
        }
    }

    private bool TryDevice(int id, out Dev device, out Failed? error)
    {
        error = null;
        if (!_devices.TryGetValue(id, out device!))
        {
            error = Fail(DmaErrorKind.UnknownDevice, $"no device {id} on preset {Platform.Preset}");
            return false;
        }
        return true;
    }

    private Dom? DomainOf(int? id) => id is int i && _domains.TryGetValue(i, out var d) ? d : null;

    private IommuConfig? IommuOf(DeviceConfig config) => config.Iommu is int i ? IommuById(i) : null;

    private IommuConfig? IommuById(int id)
    {
        var iommus = Platform.Iommus;
        for (int i = 0; i < iommus.Count; i++)
            if (iommus[i].Id == id) return iommus[i];
        return null;
    }

    private bool TryResolve(Dev device, AddressRef reference, out ulong address)
    {
        address = 0;
        switch (reference)
        {
            case RawRef raw: address = raw.Address; return true;
            case LiveRef live:
                if (live.Index < 0 || live.Index >= device.Mappings.Count) return false;
                address = unchecked(device.Mappings[live.Index].Dma.Value + live.Offset);
                return true;
            default: return false;
        }
    }
}
