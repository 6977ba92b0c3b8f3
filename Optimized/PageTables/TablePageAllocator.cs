namespace DmaVerify.Optimized.PageTables;

/// <summary>
/// Hands out page-table pages. Each page gets a physical address <c>PoolBase + frame × 64 KiB</c>
/// (64 KiB covers the largest radix table: a 64K-granule table or a concatenated stage-2 top),
/// so a table PTE's address resolves back to its page in O(1). Counts live pages (the leak
/// check) and supports fault injection: <see cref="FailNth"/> makes the n-th allocation from now
/// fail, as Linux's fail-nth does. Freed pages keep their frame and are reused, and their entry chunks recycled.
/// Not thread-safe; a domain's lock covers it.
/// </summary>
public sealed class TablePageAllocator
{
    /// <summary>16 TiB: encodable by every radix format (48- and 52-bit output addresses).</summary>
    public const ulong DefaultPoolBase = 1UL << 44;
    public const int FrameShift = 16;
    private const int MaxSpareArrays = 256;

    private const int MaxSpareChunks = 4096;

    /// <summary>Every frame ever handed out, live or pooled: a freed page keeps its frame and
    /// goes back to <see cref="_freeFrames"/>, so steady-state map/unmap allocates nothing.</summary>
    private readonly List<TablePage> _frames = [];
    private readonly Stack<int> _freeFrames = new();
    private readonly Stack<ulong[]> _spareChunks = new();
    private long _failAt;

    public TablePageAllocator(ulong poolBase = DefaultPoolBase)
    {
        if ((poolBase & Bits.LowMask(FrameShift)) != 0)
            throw new ArgumentException("pool base must be 64 KiB aligned", nameof(poolBase));
        PoolBase = poolBase;
    }

    public ulong PoolBase { get; }
    /// <summary>Pages allocated and not yet freed (in trees or waiting on free lists).</summary>
    public int LivePages { get; private set; }
    public int PeakPages { get; private set; }
    /// <summary>Allocation attempts so far, failed ones included.</summary>
    public long Attempts { get; private set; }
    /// <summary>Allocations refused by fault injection.</summary>
    public long InjectedFailures { get; private set; }
    public bool FailurePending => _failAt != 0;

    /// <summary>The n an armed <see cref="FailNth"/> would now be called with, 0 when none is armed.</summary>
    public int PendingFailureIn => _failAt == 0 ? 0 : (int)(_failAt - Attempts);

    /// <summary>Make the n-th allocation from now fail (1 = the next one); n ≤ 0 cancels.
    /// The failure fires once.</summary>
    public void FailNth(int n) => _failAt = n <= 0 ? 0 : Attempts + n;

    internal TablePage? Allocate(int entries, ulong fill)
    {
        Attempts++;
        if (Attempts == _failAt)
        {
            _failAt = 0;
            InjectedFailures++;
            return null;
        }
        TablePage page;
        if (_freeFrames.Count > 0) page = _frames[_freeFrames.Pop()];
        else
        {
            int frame = _frames.Count;
            page = new TablePage(this, frame, PoolBase + ((ulong)frame << FrameShift));
            _frames.Add(page);
        }
        page.Reset(entries, fill);
        page.Live = true;
        LivePages++;
        if (LivePages > PeakPages) PeakPages = LivePages;
        return page;
    }

    internal void Free(TablePage page)
    {
        if (!page.Live || !ReferenceEquals(_frames[page.Frame], page))
            throw new InvalidOperationException($"table page at {page.Pa:X} freed twice");
        page.Live = false;
        page.ReleaseChunks();
        _freeFrames.Push(page.Frame);
        LivePages--;
    }

    internal TablePage Resolve(ulong pa)
    {
        var page = _frames[(int)((pa - PoolBase) >> FrameShift)];
        return page.Live ? page : throw new InvalidOperationException($"no table page at {pa:X}");
    }

    /// <summary>The page of <paramref name="frame"/> (for copies: a page table names its pages by frame).</summary>
    internal TablePage PageAt(int frame) => _frames[frame];

    internal ulong[] TakeChunk() => _spareChunks.Count > 0 ? _spareChunks.Pop() : TablePage.NewChunk();

    internal void ReturnChunk(ulong[] chunk)
    {
        if (_spareChunks.Count >= MaxSpareChunks) return;
        Array.Clear(chunk);
        _spareChunks.Push(chunk);
    }

    /// <summary>An independent allocator in the same state: every live page copied to the same
    /// frame (so table PTEs resolve the same way), the same free frames in the same order, the
    /// same counters. An armed <see cref="FailNth"/> is not carried over.</summary>
    public TablePageAllocator Clone()
    {
        var copy = new TablePageAllocator(PoolBase)
        {
            LivePages = LivePages, PeakPages = PeakPages, Attempts = Attempts, InjectedFailures = InjectedFailures,
        };
        foreach (var page in _frames)
        {
            var mine = new TablePage(copy, page.Frame, page.Pa);
            if (page.Live) mine.CopyFrom(page);
            copy._frames.Add(mine);
        }
        foreach (int frame in _freeFrames.Reverse()) copy._freeFrames.Push(frame);
        return copy;
    }
}
