namespace DmaVerify.Optimized.Iova;

/// <summary>
/// What both allocators share: argument checks, the tree lock, and the alloc_iova_fast /
/// free_iova_fast front end over a <see cref="RangeCache"/> (the same magazines and depot for
/// both). Subclasses supply the tree operations, called with the tree lock held.
/// </summary>
public abstract class CachedIovaAllocator : ICloneableIovaAllocator
{
    /// <summary>The tree lock (Linux's iova_rbtree_lock). Never taken while a cache lock is held.</summary>
    private protected readonly Lock TreeLock = new();
    private protected readonly RangeCache Cache;

    /// <summary>A planted slip (the planted-bug catalog); none in real runs. Clones keep it.</summary>
    internal OptimizedPlant Plant
    {
        get => _plant;
        set
        {
            _plant = value;
            Cache.Plant = value;
        }
    }

    private OptimizedPlant _plant;

    public ulong StartPfn { get; }
    public ulong MaxPfn { get; }
    public int GranuleShift { get; }

    /// <param name="startPfn">Lowest allocatable PFN; raised to 1 (PFN 0 is the failure value).</param>
    /// <param name="granuleShift">log2 of the granule, 0..32 (4 KiB → 12).</param>
    /// <param name="cacheSlots">CPU-like cache slots; 0 → Environment.ProcessorCount.</param>
    /// <param name="depotKeep">Full magazines a depot keeps before one is trimmed back to the
    /// tree; negative → the slot count (Linux: num_online_cpus).</param>
    private protected CachedIovaAllocator(ulong startPfn, int granuleShift, int cacheSlots, int depotKeep)
    {
        if (granuleShift is < 0 or > 32) throw new ArgumentOutOfRangeException(nameof(granuleShift), "granule shift must be 0..32");
        GranuleShift = granuleShift;
        MaxPfn = IovaArguments.MaxPfn(granuleShift);
        StartPfn = IovaArguments.StartPfn(startPfn, MaxPfn);
        int slots = cacheSlots > 0 ? cacheSlots : Environment.ProcessorCount;
        Cache = new RangeCache(slots, depotKeep >= 0 ? depotKeep : slots);
    }

    /// <summary>A copy of <paramref name="source"/>'s parameters and caches; the subclass
    /// copies its tree (under <paramref name="source"/>'s tree lock, see <see cref="Clone"/>).</summary>
    private protected CachedIovaAllocator(CachedIovaAllocator source)
    {
        GranuleShift = source.GranuleShift;
        MaxPfn = source.MaxPfn;
        StartPfn = source.StartPfn;
        Cache = source.Cache.Clone();
        _plant = source._plant;
    }

    /// <summary>An independent allocator in this one's state: tree, cached nodes, hints and
    /// every magazine. Callers must not run other operations on it meanwhile (the DMA layer
    /// clones under its own lock).</summary>
    public IIovaAllocator Clone()
    {
        lock (TreeLock) return CloneLocked();
    }

    private protected abstract CachedIovaAllocator CloneLocked();

    // ---- tree operations, tree lock held ----

    /// <summary>Freed nodes kept for reuse (Linux takes struct iova from a kmem_cache), so a
    /// steady alloc/free pattern allocates no memory. Tree lock held.</summary>
    private readonly Stack<IovaNode> _spareNodes = new();
    private const int MaxSpareNodes = 1024;

    private protected IovaNode NewNode(ulong lo, ulong hi, bool reserved = false)
    {
        if (!_spareNodes.TryPop(out var node)) return new IovaNode(lo, hi, reserved);
        node.Lo = lo;
        node.Hi = hi;
        node.Reserved = reserved;
        node.GapSize = node.GapCap = node.SubGap = node.SubCap = 0;
        return node;
    }

    /// <summary>Keeps a node the tree no longer links (no other reference may remain).</summary>
    private protected void Recycle(IovaNode node)
    {
        if (_spareNodes.Count < MaxSpareNodes) _spareNodes.Push(node);
    }

    private protected abstract ulong AllocLocked(ulong pages, ulong limitPfn, bool sizeAligned);
    private protected abstract bool FreeLocked(ulong pfn);
    private protected abstract bool ContainsLocked(ulong pfn);
    private protected abstract int CountLocked();
    private protected abstract void CollectLocked(List<IovaRange> into);

    // ---- argument checks ----

    private bool CheckRequest(ulong pages, ref ulong limitPfn) => IovaArguments.CanRequest(pages, ref limitPfn, StartPfn, MaxPfn);

    private bool CheckRange(ulong pfn, ulong pages) => IovaArguments.IsRange(pfn, pages, StartPfn, MaxPfn);

    // ---- the fast path ----

    public ulong AllocFast(ulong pages, ulong limitPfn, bool flushCachesOnFailure)
    {
        ulong size = IovaFit.FastSize(pages);
        if (size == 0 || !CheckRequest(size, ref limitPfn)) return 0;
        ulong pfn = Cache.TryTake(size, limitPfn);
        if (pfn != 0) return pfn;
        bool aligned = _plant != OptimizedPlant.SizeAlignmentOnlyBelow32 || size < IovaFit.RoundUpBelow;
        lock (TreeLock) pfn = AllocLocked(size, limitPfn, aligned);
        if (pfn != 0 || !flushCachesOnFailure) return pfn;
        FlushCaches();
        lock (TreeLock) return AllocLocked(size, limitPfn, aligned);
    }

    public bool FreeFast(ulong pfn, ulong pages)
    {
        ulong size = IovaFit.FastSize(pages);
        if (size == 0 || !CheckRange(pfn, size)) return false;
        if (!Cache.TryInsert(pfn, size, out var trimmed)) return Free(pfn);
        if (trimmed is not null)
            lock (TreeLock)
                for (int i = 0; i < trimmed.Size; i++) FreeLocked(trimmed[i]);
        return true;
    }

    // ---- the tree ----

    public ulong Alloc(ulong pages, ulong limitPfn, bool sizeAligned)
    {
        if (!CheckRequest(pages, ref limitPfn)) return 0;
        if (sizeAligned && IovaFit.RoundUpPow2(pages) == 0) return 0;
        lock (TreeLock) return AllocLocked(pages, limitPfn, sizeAligned);
    }

    public bool Free(ulong pfn)
    {
        if (pfn > MaxPfn) return false;
        lock (TreeLock) return FreeLocked(pfn);
    }

    public abstract bool Reserve(ulong pfnLo, ulong pfnHi);

    public void FlushCaches()
    {
        var pfns = new List<ulong>();
        Cache.DrainAll(pfns);
        if (pfns.Count == 0) return;
        lock (TreeLock)
            foreach (ulong pfn in pfns) FreeLocked(pfn);
    }

    public bool Contains(ulong pfn)
    {
        if (pfn > MaxPfn) return false;
        lock (TreeLock) return ContainsLocked(pfn);
    }

    public int Count { get { lock (TreeLock) return CountLocked(); } }

    public int CachedCount => Cache.CachedCount();

    public IReadOnlyList<IovaRange> Ranges()
    {
        var list = new List<IovaRange>();
        lock (TreeLock) CollectLocked(list);
        return list;
    }
}
