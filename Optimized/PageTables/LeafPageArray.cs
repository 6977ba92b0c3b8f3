namespace DmaVerify.Optimized.PageTables;

/// <summary>
/// The "leaf-page array" fast PTE lookup for DMA domains: for every 2^shift-byte slice of IOVA
/// space (2 MiB on AMD v1) a reference to the level-0 table that maps it, so the PTE of a 4 KiB
/// IOVA is found with two array indexings instead of a walk. Stored as lazily allocated chunks
/// of 512 references (one chunk per 1 GiB), so an IOVA space of 2^48 costs a 2 MB directory
/// plus the chunks in use. The page table updates it whenever a level-0 table is installed in
/// or removed from a level-1 entry, so it always agrees with the tree.
/// </summary>
internal sealed class LeafPageArray
{
    private const int ChunkBits = 9;
    private readonly int _shift;
    private readonly ulong _last;
    private readonly TablePage?[]?[] _chunks;

    public LeafPageArray(int shift, ulong last)
    {
        _shift = shift;
        _last = last;
        ulong slices = (last >> shift) + 1;
        ulong chunks = (slices + (1UL << ChunkBits) - 1) >> ChunkBits;
        if (chunks > 1UL << 24) throw new ArgumentOutOfRangeException(nameof(last), last, "leaf-page array window too large");
        _chunks = new TablePage?[]?[chunks];
    }

    /// <summary>Level-0 tables recorded.</summary>
    public int Count { get; private set; }
    public ulong Last => _last;

    public TablePage? Find(ulong iova)
    {
        if (iova > _last) return null;
        ulong slice = iova >> _shift;
        return _chunks[slice >> ChunkBits]?[slice & ((1UL << ChunkBits) - 1)];
    }

    public void Set(ulong iova, TablePage table)
    {
        if (iova > _last) return;
        ulong slice = iova >> _shift;
        var chunk = _chunks[slice >> ChunkBits] ??= new TablePage?[1 << ChunkBits];
        ref var slot = ref chunk[slice & ((1UL << ChunkBits) - 1)];
        if (slot is null) Count++;
        slot = table;
    }

    public void Clear(ulong iova)
    {
        if (iova > _last) return;
        ulong slice = iova >> _shift;
        var chunk = _chunks[slice >> ChunkBits];
        if (chunk is null) return;
        ref var slot = ref chunk[slice & ((1UL << ChunkBits) - 1)];
        if (slot is not null) Count--;
        slot = null;
    }
}
