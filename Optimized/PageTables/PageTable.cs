using DmaVerify.Contracts;

namespace DmaVerify.Optimized.PageTables;

/// <summary>
/// The one generic page table: a radix tree (or a flat table) of <see cref="TablePage"/>s
/// walked with the geometry and PTE encodings of <typeparamref name="TFormat"/>. Map and unmap
/// are in MapUnmap.cs, read-only walks in Walker.cs. The format is a struct type parameter so
/// the JIT specialises the walker per format and inlines the bit arithmetic.
///
/// Invariants (checked by <see cref="Audit"/>): every table but the top has at least one used
/// entry; each table's <c>Used</c> equals its non-empty slots; the leaf-page array, when kept,
/// references exactly the level-0 tables in the tree.
/// Not thread-safe: the DMA layer serialises operations on one domain.
/// </summary>
public sealed partial class PageTable<TFormat> : IPageTable, IPageTableInternals where TFormat : struct, IPteFormat
{
    private readonly TFormat _f;
    private readonly TablePageAllocator _alloc;
    private LeafPageArray? _leafArray;
    private readonly ulong _granule;
    // The current walk: _pathTable[l] holds the level-l entries, _pathIndex[l] the slot used.
    private readonly TablePage[] _pathTable;
    private readonly int[] _pathIndex;
    private TablePage _root;
    private int _levels;
    private int _tablePages;
    private int _pendingFree;
    private readonly OptimizedPlant _plant;

    private PageTable(TFormat format, TablePageAllocator allocator, TablePage root, PageTableOptions options)
    {
        _plant = options.Plant;
        _f = format;
        _alloc = allocator;
        _root = root;
        _levels = format.InitialLevels;
        _tablePages = 1;
        _granule = Bits.LowestSetBit(format.PageSizes);
        _pathTable = new TablePage[format.MaxLevels];
        _pathIndex = new int[format.MaxLevels];
        if (options.LeafPageArray)
        {
            if (format.MaxLevels < 2 || format.IovaBase != 0)
                throw new ArgumentException($"{format.Kind} has no level-0 tables to index", nameof(options));
            _leafArray = new LeafPageArray(format.LevelShift(1), Math.Min(options.LeafPageArrayLast, format.IovaLast));
        }
    }

    private PageTable(PageTable<TFormat> source, TablePageAllocator pages)
    {
        _f = source._f;
        _alloc = pages;
        _root = pages.PageAt(source._root.Frame);
        _levels = source._levels;
        _tablePages = source._tablePages;
        _pendingFree = source._pendingFree;
        _plant = source._plant;
        _granule = source._granule;
        _pathTable = new TablePage[_f.MaxLevels];
        _pathIndex = new int[_f.MaxLevels];
        _leafArray = source._leafArray?.CloneOnto(pages);
    }

    /// <summary>This table over <paramref name="pages"/>, a <see cref="TablePageAllocator.Clone"/>
    /// of its allocator: the copied pages of the same frames.</summary>
    public IPageTable CloneOnto(TablePageAllocator pages) => new PageTable<TFormat>(this, pages);

    /// <summary>A new empty table, or null when the allocator refuses the top table.</summary>
    public static PageTable<TFormat>? TryCreate(TFormat format, PageTableOptions? options = null)
    {
        options ??= new PageTableOptions();
        var allocator = options.Allocator ?? new TablePageAllocator();
        int levels = format.InitialLevels;
        var root = allocator.Allocate(1 << format.TableIndexBits(levels - 1, levels), format.EmptyEntry);
        return root is null ? null : new PageTable<TFormat>(format, allocator, root, options);
    }

    public TFormat Format => _f;
    public PageTableFormatKind Kind => _f.Kind;
    public ulong PageSizes => _f.PageSizes;
    public ulong Granule => _granule;
    public ulong IovaBase => _f.IovaBase;
    public ulong IovaLast => _f.IovaLast;
    public ulong PaLast => _f.PaLast;
    public int Levels => _levels;
    public int TablePages => _tablePages;
    public int PendingFreeTablePages => _pendingFree;
    public TablePageAllocator Allocator => _alloc;
    public bool HasLeafPageArray => _leafArray is not null;
    /// <summary>Physical address of the top table (what a DTE or context entry points at).</summary>
    public ulong RootPa => _root.Pa;

    public Prot EffectiveProt(Prot requested) => _f.LeafProt(_f.EncodeLeaf(0, _granule, 0, requested), 0);

    public void ReleaseDeferred(TableFreeList list)
    {
        foreach (var page in list.Pages) _alloc.Free(page);
        _pendingFree -= list.Pages.Count;
        list.Pages.Clear();
    }

    /// <summary>Last IOVA a tree of <paramref name="levels"/> levels reaches.</summary>
    private ulong CoveredLast(int levels)
    {
        int top = levels - 1;
        ulong span = Bits.LowMask(_f.LevelShift(top) + _f.TableIndexBits(top, levels));
        ulong last = span > ulong.MaxValue - _f.IovaBase ? ulong.MaxValue : _f.IovaBase + span;
        return Math.Min(last, _f.IovaLast);
    }

    private TablePage Resolve(ulong pte, int level) => _alloc.Resolve(_f.TableAddress(pte, level));

    private TablePage? NewTable(int level, int levels)
    {
        var page = _alloc.Allocate(1 << _f.TableIndexBits(level, levels), _f.EmptyEntry);
        if (page is not null) _tablePages++;
        return page;
    }

    private void FreeTable(TablePage table, TableFreeList? deferFree)
    {
        _tablePages--;
        if (deferFree is null)
        {
            _alloc.Free(table);
            return;
        }
        deferFree.Pages.Add(table);
        _pendingFree++;
    }

    /// <summary>Walks up the current path from <paramref name="level"/>, unlinking and freeing
    /// each table that has become empty (never the top).</summary>
    private void Prune(int level, ulong iova, TableFreeList? deferFree)
    {
        for (int l = level; l < _levels - 1; l++)
        {
            var table = _pathTable[l];
            if (table.Used != 0) return;
            _pathTable[l + 1].Clear(_pathIndex[l + 1], _f.EmptyEntry);
            if (l == 0) _leafArray?.Clear(iova);
            FreeTable(table, deferFree);
        }
    }

    /// <summary>Grows the top (AMD v1) until it covers <paramref name="last"/> and, where the top
    /// holds no leaves, sits above <paramref name="leafLevel"/>.</summary>
    private DmaErrorKind? EnsureLevels(ulong last, int leafLevel)
    {
        int need = _levels;
        while (need < _f.MaxLevels && (CoveredLast(need) < last || (!_f.TopHoldsLeaves && leafLevel >= need - 1)))
            need++;
        if (CoveredLast(need) < last || leafLevel > need - 1 || (!_f.TopHoldsLeaves && leafLevel >= need - 1))
            return DmaErrorKind.OutOfRange;
        while (_levels < need)
            if (!Grow()) return DmaErrorKind.OutOfMemory;
        return null;
    }

    /// <summary>One more level on top: the old top becomes entry 0 of a new top table (an empty
    /// old top is reused as the new top instead).</summary>
    private bool Grow()
    {
        int levels = _levels + 1;
        int entries = 1 << _f.TableIndexBits(_levels, levels);
        if (_root.Used == 0 && _root.Length == entries)
        {
            _levels = levels;
            return true;
        }
        var top = NewTable(_levels, levels);
        if (top is null) return false;
        if (_root.Used == 0) FreeTable(_root, null);
        else
        {
            top.Fill(0, _f.EncodeTable(_root.Pa, _levels));
        }
        _root = top;
        _levels = levels;
        return true;
    }

    /// <summary>Undoes growth after a failed map: drops top tables that only lead to entry 0.</summary>
    private void ShrinkTo(int levels)
    {
        while (_levels > levels)
        {
            int lower = _levels - 1;
            if (_root.Used == 0 && _root.Length == 1 << _f.TableIndexBits(lower - 1, lower))
            {
                _levels = lower;
                continue;
            }
            if (_root.Used != 1) return;
            ulong pte = _root[0];
            if (_f.Classify(pte, _levels - 1) != PteKind.Table) return;
            var child = Resolve(pte, _levels - 1);
            _root.Clear(0, _f.EmptyEntry);
            FreeTable(_root, null);
            _root = child;
            _levels = lower;
        }
    }
}
