namespace DmaVerify.Optimized.Iova;

/// <summary>
/// The per-CPU range cache ("rcache") both allocators put in front of their trees: six size
/// classes; per CPU-like slot and class a <c>loaded</c> and a <c>prev</c> magazine of 127 PFNs
/// behind the slot's lock; per class a depot (linked stack) of full magazines behind its own lock.
/// A slot is chosen by <c>IovaCpu.Current % slots</c> (the managed thread id unless pinned).
/// <para>Linux trims an over-long depot from delayed work 100 ms later; here the trim happens
/// on the push that makes the depot longer than <c>depotKeep</c> magazines, and the trimmed
/// magazine is handed back to the caller, who frees its PFNs into the tree. The cache never
/// takes the tree lock and never holds two slot locks: lock order is slot → depot.</para>
/// Cached PFNs stay allocated in the tree; only the allocator knows they are free.
/// </summary>
internal sealed class RangeCache
{
    private sealed class Slot
    {
        public readonly Magazine[] Loaded = new Magazine[MagazineRules.Classes];
        public readonly Magazine[] Prev = new Magazine[MagazineRules.Classes];

        public Slot()
        {
            for (int c = 0; c < MagazineRules.Classes; c++) { Loaded[c] = new(); Prev[c] = new(); }
        }
    }

    private sealed class Depot
    {
        public Magazine? Head;
        public int Count;
    }

    private readonly Slot[] _slots;
    private readonly Depot[] _depots = new Depot[MagazineRules.Classes];
    private readonly int _depotKeep;

    public RangeCache(int slots, int depotKeep)
    {
        _slots = new Slot[Math.Max(1, slots)];
        for (int i = 0; i < _slots.Length; i++) _slots[i] = new Slot();
        for (int c = 0; c < _depots.Length; c++) _depots[c] = new Depot();
        _depotKeep = Math.Max(0, depotKeep);
    }

    public int Slots => _slots.Length;

    /// <summary>A planted slip (set by the owning allocator); none in real runs.</summary>
    public OptimizedPlant Plant { get; set; }

    /// <summary>The size class a range of <paramref name="pages"/> is filed under, or -1 when
    /// its size is not cached.</summary>
    private int ClassOf(ulong pages)
    {
        if (Plant == OptimizedPlant.RcacheClassRoundsDown)
            return pages >= 1 && IovaFit.FloorLog2(pages) < MagazineRules.Classes ? IovaFit.FloorLog2(pages) : -1;
        return MagazineRules.IsCacheable(pages) ? MagazineRules.SizeClass(pages) : -1;
    }

    private RangeCache(RangeCache source)
    {
        _depotKeep = source._depotKeep;
        Plant = source.Plant;
        _slots = new Slot[source._slots.Length];
        for (int i = 0; i < _slots.Length; i++)
        {
            var from = source._slots[i];
            var to = _slots[i] = new Slot();
            lock (from)
                for (int c = 0; c < MagazineRules.Classes; c++)
                {
                    to.Loaded[c] = from.Loaded[c].Clone();
                    to.Prev[c] = from.Prev[c].Clone();
                }
        }
        for (int c = 0; c < _depots.Length; c++)
        {
            var from = source._depots[c];
            var to = _depots[c] = new Depot();
            lock (from)
            {
                to.Count = from.Count;
                Magazine? tail = null;
                for (var m = from.Head; m is not null; m = m.Next)
                {
                    var copy = m.Clone();
                    if (tail is null) to.Head = copy; else tail.Next = copy;
                    tail = copy;
                }
            }
        }
    }

    /// <summary>Every slot's magazines and every depot, PFN for PFN and in the same order.</summary>
    public RangeCache Clone() => new(this);

    private Slot CurrentSlot() => _slots[(uint)IovaCpu.Current % (uint)_slots.Length];

    /// <summary>Caches the range [pfn, pfn + pages − 1] (iova_rcache_insert). Returns false when
    /// its size class is not cached. <paramref name="trimmed"/> is a full magazine taken off an
    /// over-long depot that the caller must free into the tree (and then may drop).</summary>
    public bool TryInsert(ulong pfn, ulong pages, out Magazine? trimmed)
    {
        trimmed = null;
        int cls = ClassOf(pages);
        if (cls < 0) return false;
        var slot = CurrentSlot();
        lock (slot)
        {
            var loaded = slot.Loaded[cls];
            if (loaded.IsFull)
            {
                if (!slot.Prev[cls].IsFull)
                {
                    slot.Loaded[cls] = slot.Prev[cls];
                    slot.Prev[cls] = loaded;
                }
                else
                {
                    var depot = _depots[cls];
                    lock (depot)
                    {
                        loaded.Next = depot.Head;
                        depot.Head = loaded;
                        depot.Count++;
                        if (depot.Count > _depotKeep)
                        {
                            trimmed = depot.Head;
                            depot.Head = trimmed.Next;
                            trimmed.Next = null;
                            depot.Count--;
                        }
                    }
                    slot.Loaded[cls] = new Magazine();
                }
            }
            slot.Loaded[cls].Push(pfn);
        }
        return true;
    }

    /// <summary>Takes a cached range of <paramref name="pages"/> (a power of two below 64) whose end
    /// is at or below <paramref name="limitPfn"/>, or 0 (__iova_rcache_get): pops from
    /// <c>loaded</c> if it has entries, else swaps in a non-empty <c>prev</c>, else replaces the
    /// empty <c>loaded</c> by a full depot magazine; only the chosen magazine is scanned.</summary>
    public ulong TryTake(ulong pages, ulong limitPfn)
    {
        int cls = ClassOf(pages);
        if (cls < 0) return 0;
        var slot = CurrentSlot();
        lock (slot)
        {
            var loaded = slot.Loaded[cls];
            if (loaded.IsEmpty)
            {
                if (!slot.Prev[cls].IsEmpty)
                {
                    slot.Loaded[cls] = slot.Prev[cls];
                    slot.Prev[cls] = loaded;
                }
                else
                {
                    var depot = _depots[cls];
                    lock (depot)
                    {
                        if (depot.Head is null) return 0;
                        var full = depot.Head;
                        depot.Head = full.Next;
                        full.Next = null;
                        depot.Count--;
                        slot.Loaded[cls] = full;
                    }
                }
            }
            return slot.Loaded[cls].PopBelow(pages, Plant == OptimizedPlant.MagazineIgnoresLimit ? ulong.MaxValue : limitPfn);
        }
    }

    /// <summary>Empties every slot's magazines and every depot into <paramref name="into"/>
    /// (free_cpu_cached_iovas for every CPU + free_global_cached_iovas).</summary>
    public void DrainAll(List<ulong> into)
    {
        foreach (var slot in _slots)
        {
            lock (slot)
            {
                for (int c = 0; c < MagazineRules.Classes; c++)
                {
                    Drain(slot.Loaded[c], into);
                    Drain(slot.Prev[c], into);
                }
            }
        }
        foreach (var depot in _depots)
        {
            lock (depot)
            {
                for (var m = depot.Head; m is not null; m = m.Next) Drain(m, into);
                depot.Head = null;
                depot.Count = 0;
            }
        }
    }

    private static void Drain(Magazine m, List<ulong> into)
    {
        for (int i = 0; i < m.Size; i++) into.Add(m[i]);
        m.Size = 0;
    }

    /// <summary>Number of cached ranges (a snapshot; for tests and diagnostics).</summary>
    public int CachedCount()
    {
        int n = 0;
        foreach (var slot in _slots)
            lock (slot)
                for (int c = 0; c < MagazineRules.Classes; c++) n += slot.Loaded[c].Size + slot.Prev[c].Size;
        foreach (var depot in _depots)
            lock (depot)
                for (var m = depot.Head; m is not null; m = m.Next) n += m.Size;
        return n;
    }
}

/// <summary>
/// Which CPU-like cache slot the calling thread's magazine operations use: its managed thread
/// id, unless the thread has pinned itself to a CPU number (a driver model that runs each
/// queue's completions "on" a given CPU, or a benchmark that frees on another CPU than it
/// allocated on, as Linux does when a completion interrupt lands elsewhere).
/// </summary>
public static class IovaCpu
{
    [ThreadStatic] private static int t_pinned;

    /// <summary>Pins the calling thread to <paramref name="cpu"/> (≥ 0); a negative value unpins.</summary>
    public static void Pin(int cpu) => t_pinned = cpu < 0 ? 0 : cpu + 1;

    /// <summary>The slot selector in use for the calling thread.</summary>
    public static int Current => t_pinned != 0 ? t_pinned - 1 : Environment.CurrentManagedThreadId;
}
