namespace DmaVerify.Optimized.PageTables;

/// <summary>
/// Hands out page-table pages. Each page gets a physical address <c>PoolBase + frame × 64 KiB</c>
/// (64 KiB covers the largest radix table: a 64K-granule table or a concatenated stage-2 top),
/// so a table PTE's address resolves back to its page in O(1). Counts live pages (the leak
/// check) and supports fault injection: <see cref="FailNth"/> makes the n-th allocation from now
/// fail, as Linux's fail-nth does. Freed entry arrays are recycled.
/// Not thread-safe; a domain's lock covers it.
/// </summary>
public sealed class TablePageAllocator
{
    /// <summary>16 TiB: encodable by every radix format (48- and 52-bit output addresses).</summary>
    public const ulong DefaultPoolBase = 1UL << 44;
    public const int FrameShift = 16;
    private const int MaxSpareArrays = 256;

    private readonly List<TablePage?> _frames = [];
    private readonly Stack<int> _freeFrames = new();
    private readonly Dictionary<int, Stack<(ulong[] Entries, ulong[] Occupied)>> _spare = [];
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
        int frame;
        if (_freeFrames.Count > 0) frame = _freeFrames.Pop();
        else
        {
            frame = _frames.Count;
            _frames.Add(null);
        }
        var (array, occupied) = _spare.TryGetValue(entries, out var stack) && stack.Count > 0
            ? stack.Pop()
            : (new ulong[entries], new ulong[TablePage.OccupancyWords(entries)]);
        if (fill != 0) Array.Fill(array, fill);
        var page = new TablePage(frame, PoolBase + ((ulong)frame << FrameShift), array, occupied);
        _frames[frame] = page;
        LivePages++;
        if (LivePages > PeakPages) PeakPages = LivePages;
        return page;
    }

    internal void Free(TablePage page)
    {
        if (!ReferenceEquals(_frames[page.Frame], page))
            throw new InvalidOperationException($"table page at {page.Pa:X} freed twice");
        _frames[page.Frame] = null;
        _freeFrames.Push(page.Frame);
        LivePages--;
        if (!_spare.TryGetValue(page.Entries.Length, out var stack)) _spare[page.Entries.Length] = stack = new();
        if (stack.Count < MaxSpareArrays)
        {
            Array.Clear(page.Entries);
            Array.Clear(page.Occupied);
            stack.Push((page.Entries, page.Occupied));
        }
    }

    internal TablePage Resolve(ulong pa) =>
        _frames[(int)((pa - PoolBase) >> FrameShift)] ?? throw new InvalidOperationException($"no table page at {pa:X}");
}
