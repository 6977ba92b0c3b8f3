namespace DmaVerify.Optimized.PageTables;

/// <summary>
/// The "leaf-page array" fast PTE lookup for DMA domains: for every 2^shift-byte slice of IOVA
/// space (2 MiB on AMD v1) a reference to the level-0 table that maps it, so the PTE of a 4 KiB
/// IOVA is found with three array indexings instead of a walk. A three-level radix of 512-way
/// arrays, each allocated on first use: an empty 2^48 window costs one 4 KiB directory (not a
/// 2 MB one), so building and copying a domain stays cheap. The page table updates it whenever
/// a level-0 table is installed in or removed from a level-1 entry, so it always agrees with
/// the tree.
/// </summary>
internal sealed class LeafPageArray
{
    private const int Bits = 9;
    private const int Fan = 1 << Bits;
    private const ulong Mask = Fan - 1;
    private readonly int _shift;
    private readonly ulong _last;
    private readonly TablePage?[]?[]?[] _directory;

    public LeafPageArray(int shift, ulong last)
    {
        _shift = shift;
        _last = last;
        ulong slices = (last >> shift) + 1;
        if (slices > 1UL << (3 * Bits)) throw new ArgumentOutOfRangeException(nameof(last), last, "leaf-page array window too large");
        _directory = new TablePage?[]?[]?[(int)((slices + (1UL << (2 * Bits)) - 1) >> (2 * Bits))];
    }

    /// <summary>Level-0 tables recorded.</summary>
    public int Count { get; private set; }
    public ulong Last => _last;

    public TablePage? Find(ulong iova)
    {
        if (iova > _last) return null;
        ulong slice = iova >> _shift;
        return _directory[slice >> (2 * Bits)]?[(slice >> Bits) & Mask]?[slice & Mask];
    }

    public void Set(ulong iova, TablePage table)
    {
        if (iova > _last) return;
        ulong slice = iova >> _shift;
        var middle = _directory[slice >> (2 * Bits)] ??= new TablePage?[]?[Fan];
        var chunk = middle[(slice >> Bits) & Mask] ??= new TablePage?[Fan];
        ref var slot = ref chunk[slice & Mask];
        if (slot is null) Count++;
        slot = table;
    }

    public void Clear(ulong iova)
    {
        if (iova > _last) return;
        ulong slice = iova >> _shift;
        var chunk = _directory[slice >> (2 * Bits)]?[(slice >> Bits) & Mask];
        if (chunk is null) return;
        ref var slot = ref chunk[slice & Mask];
        if (slot is not null) Count--;
        slot = null;
    }

    /// <summary>The same references, each page replaced by the page of the same frame in
    /// <paramref name="pages"/> (a copied allocator).</summary>
    public LeafPageArray CloneOnto(TablePageAllocator pages)
    {
        var copy = new LeafPageArray(_shift, _last) { Count = Count };
        for (int d = 0; d < _directory.Length; d++)
        {
            if (_directory[d] is not { } middle) continue;
            var toMiddle = copy._directory[d] = new TablePage?[]?[Fan];
            for (int m = 0; m < Fan; m++)
            {
                if (middle[m] is not { } chunk) continue;
                var toChunk = toMiddle[m] = new TablePage?[Fan];
                for (int i = 0; i < Fan; i++)
                    if (chunk[i] is TablePage page) toChunk[i] = pages.PageAt(page.Frame);
            }
        }
        return copy;
    }
}
