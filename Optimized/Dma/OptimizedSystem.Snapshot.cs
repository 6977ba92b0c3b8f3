using DmaVerify.Contracts;
using DmaVerify.Optimized.Iova;
using DmaVerify.Optimized.PageTables;

namespace DmaVerify.Optimized.Dma;

/// <summary>Snapshot and restore: a deep copy of every structure an op reads or writes.</summary>
public sealed partial class OptimizedSystem
{
    /// <summary>Everything that changes as ops run. Never handed out: a snapshot holds a private
    /// copy, and a restore installs a fresh copy of it, so the snapshot stays as it was.</summary>
    private sealed class Image
    {
        public required TablePageAllocator TablePages;
        public required Dictionary<int, Dev> Devices;
        public required SortedDictionary<int, Dom> Domains;
        public required SortedDictionary<int, BounceSlot> Bounces;
        public required SpanAllocator? SwiotlbSlots;
        public ulong NowMs;
        public int NextMappingId, NextBounceId, NextDomainId;
        public long RefusedAllocations, RefusedPci32Passes;

        /// <summary>A copy sharing nothing mutable with this one. Page tables are copied onto the
        /// copied table-page allocator, so table pages keep their frames and addresses.</summary>
        public Image DeepCopy(SnapshotPlant plant)
        {
            bool sharedTables = plant == SnapshotPlant.SharedPageTables;
            var pages = sharedTables ? TablePages : TablePages.Clone();
            var devices = new Dictionary<int, Dev>(Devices.Count);
            foreach (var (id, dev) in Devices) devices[id] = dev.Clone();
            var domains = new SortedDictionary<int, Dom>();
            foreach (var (id, dom) in Domains)
            {
                domains[id] = dom.CloneOnto(pages, plant);
            }
            return new Image
            {
                TablePages = pages, Devices = devices, Domains = domains,
                Bounces = new SortedDictionary<int, BounceSlot>(Bounces), SwiotlbSlots = plant == SnapshotPlant.SharedAllocators ? SwiotlbSlots : SwiotlbSlots?.Clone(),
                NowMs = NowMs, NextMappingId = NextMappingId, NextBounceId = NextBounceId, NextDomainId = NextDomainId,
                RefusedAllocations = RefusedAllocations, RefusedPci32Passes = RefusedPci32Passes,
            };
        }
    }

    private sealed class Saved(PlatformConfig platform, OptimizedSystemOptions options, Image image) : SystemSnapshot(platform)
    {
        public OptimizedSystemOptions Options { get; } = options;
        public Image Image { get; } = image;
    }

    public SystemSnapshot Snapshot()
    {
        lock (_gate)
        {
            var live = new Image
            {
                TablePages = _tablePages, Devices = _devices, Domains = _domains, Bounces = _bounces, SwiotlbSlots = _swiotlbSlots,
                NowMs = _nowMs, NextMappingId = _nextMappingId, NextBounceId = _nextBounceId, NextDomainId = _nextDomainId,
                RefusedAllocations = Max32Shortcut.RefusedAllocations, RefusedPci32Passes = Max32Shortcut.RefusedPci32Passes,
            };
            return new Saved(Platform, Options, live.DeepCopy(PlantedSnapshotBug));
        }
    }

    public void Restore(SystemSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (snapshot is not Saved saved)
            throw new ArgumentException($"a snapshot of {snapshot.GetType().Name} cannot be restored into {Name}", nameof(snapshot));
        if (!ReferenceEquals(saved.Platform, Platform))
            throw new ArgumentException($"the snapshot was taken over another platform object ({saved.Platform.Preset}) than this system's ({Platform.Preset})", nameof(snapshot));
        if (saved.Options != Options)
            throw new ArgumentException($"the snapshot was taken of '{saved.Options.Name}', not of '{Name}' (another allocator configuration)", nameof(snapshot));
        lock (_gate)
        {
            var image = saved.Image.DeepCopy(PlantedSnapshotBug);
            if (PlantedSnapshotBug == SnapshotPlant.KeepsArmedFailure) image.TablePages.FailNth(_tablePages.PendingFailureIn);
            _tablePages = image.TablePages;
            _devices = image.Devices;
            _domains = image.Domains;
            _bounces = image.Bounces;
            _swiotlbSlots = image.SwiotlbSlots;
            _nowMs = image.NowMs;
            _nextMappingId = image.NextMappingId;
            _nextBounceId = image.NextBounceId;
            _nextDomainId = image.NextDomainId;
            Max32Shortcut.RefusedAllocations = image.RefusedAllocations;
            Max32Shortcut.RefusedPci32Passes = image.RefusedPci32Passes;
            Max32Shortcut.LastOpRefused = false;
            _undo.Clear();
            _kept.Clear();
        }
    }
}
