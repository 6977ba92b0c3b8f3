namespace DmaVerify.Optimized.PageTables;

/// <summary>
/// One page-table page: its (simulated) physical address, its entries, how many are in use and
/// a one-bit-per-slot occupancy map, so the walker knows in O(1) when a table has become empty
/// and enumerations skip empty slots 64 at a time. Every write goes through <see cref="Fill"/>,
/// <see cref="Replace"/> or <see cref="Clear"/>.
/// <para>Entries live in chunks of 512 slots (4 KiB of PTEs plus their occupancy words), each
/// allocated on its first write; an absent chunk reads as the empty entry. A radix table is one
/// chunk; a flat TCE table of 2^19 slots or a GART aperture of 2^14 only pays for the chunks it
/// uses, so building, copying and clearing a mostly empty window is cheap.</para>
/// <para>A copy borrows its source's chunks instead of copying them (copy-on-write): a borrowed
/// chunk is copied on the first write to it and is never recycled into the allocator's pool, so
/// a snapshot and every system restored from it share the chunks none of them has written.</para>
/// </summary>
internal sealed class TablePage
{
    private const int ChunkBits = 9;
    internal const int ChunkSlots = 1 << ChunkBits;
    private const int ChunkMask = ChunkSlots - 1;
    /// <summary>A chunk holds its 512 entries, then 8 occupancy words.</summary>
    private const int ChunkWords = ChunkSlots + ChunkSlots / 64;

    private ulong[]?[] _chunks;
    /// <summary>Chunks shared with another page (a snapshot's or a copy's); null when none is.</summary>
    private bool[]? _borrowed;
    private ulong _empty;

    private readonly TablePageAllocator _owner;

    public TablePage(TablePageAllocator owner, int frame, ulong pa)
    {
        _owner = owner;
        Frame = frame;
        Pa = pa;
        _chunks = [];
    }

    public int Frame { get; }
    public ulong Pa { get; }
    /// <summary>Slots of the table.</summary>
    public int Length { get; private set; }
    /// <summary>Non-empty entries (each replicated slot of a large leaf counts).</summary>
    public int Used { get; private set; }
    /// <summary>Whether the page is in a table (false while it waits in the allocator's pool).</summary>
    public bool Live { get; set; }

    /// <summary>Makes the page an empty table of <paramref name="slots"/> entries reading as
    /// <paramref name="empty"/>, reusing its chunks where it can.</summary>
    public void Reset(int slots, ulong empty)
    {
        ReleaseChunks();
        int count = (slots + ChunkMask) >> ChunkBits;
        if (_chunks.Length != count) _chunks = new ulong[]?[count];
        Length = slots;
        Used = 0;
        _empty = empty;
    }

    public ulong this[int index] => _chunks[index >> ChunkBits] is ulong[] chunk ? chunk[index & ChunkMask] : _empty;

    private ulong[] ChunkFor(int index)
    {
        int c = index >> ChunkBits;
        ref var chunk = ref _chunks[c];
        if (chunk is null)
        {
            chunk = _owner.TakeChunk();
            if (_empty != 0) Array.Fill(chunk, _empty, 0, ChunkSlots);
        }
        else if (_borrowed is not null && _borrowed[c])
        {
            var own = _owner.TakeChunk();
            Array.Copy(chunk, own, ChunkWords);
            chunk = own;
            _borrowed[c] = false;
        }
        return chunk;
    }

    /// <summary>Writes an unused slot.</summary>
    public void Fill(int index, ulong value)
    {
        var chunk = ChunkFor(index);
        int i = index & ChunkMask;
        chunk[i] = value;
        chunk[ChunkSlots + (i >> 6)] |= 1UL << i;
        Used++;
    }

    /// <summary>Overwrites a slot that stays in use.</summary>
    public void Replace(int index, ulong value) => ChunkFor(index)[index & ChunkMask] = value;

    /// <summary>Empties a used slot.</summary>
    public void Clear(int index, ulong empty)
    {
        var chunk = ChunkFor(index);
        int i = index & ChunkMask;
        chunk[i] = empty;
        chunk[ChunkSlots + (i >> 6)] &= ~(1UL << i);
        Used--;
    }

    /// <summary>Whether slot <paramref name="index"/> is marked in use.</summary>
    public bool IsMarked(int index) =>
        _chunks[index >> ChunkBits] is ulong[] chunk && (chunk[ChunkSlots + ((index & ChunkMask) >> 6)] & (1UL << index)) != 0;

    /// <summary>The first used slot at or after <paramref name="from"/>, or -1.</summary>
    public int NextUsed(int from)
    {
        if (from < 0) from = 0;
        for (int c = from >> ChunkBits; c < _chunks.Length; c++, from = c << ChunkBits)
        {
            if (_chunks[c] is not ulong[] chunk) continue;
            int local = from & ChunkMask;
            for (int word = local >> 6; word < ChunkSlots / 64; word++, local = word << 6)
            {
                ulong bits = chunk[ChunkSlots + word] & (ulong.MaxValue << (local & 63));
                if (bits == 0) continue;
                int slot = (c << ChunkBits) + (word << 6) + System.Numerics.BitOperations.TrailingZeroCount(bits);
                return slot < Length ? slot : -1;
            }
        }
        return -1;
    }

    /// <summary>Makes this page a copy of <paramref name="source"/> (entries, occupancy, use
    /// count) that borrows its chunks: both pages copy a chunk before writing to it.</summary>
    public void CopyFrom(TablePage source)
    {
        Reset(source.Length, source._empty);
        for (int c = 0; c < source._chunks.Length; c++)
            if (source._chunks[c] is ulong[] from)
            {
                _chunks[c] = from;
                (_borrowed ??= new bool[_chunks.Length])[c] = true;
                (source._borrowed ??= new bool[source._chunks.Length])[c] = true;
            }
        Used = source.Used;
        Live = source.Live;
    }

    /// <summary>A zeroed chunk.</summary>
    public static ulong[] NewChunk() => new ulong[ChunkWords];

    /// <summary>Gives every chunk back to the allocator (the page goes to the pool).</summary>
    public void ReleaseChunks()
    {
        for (int c = 0; c < _chunks.Length; c++)
        {
            if (_chunks[c] is not ulong[] chunk) continue;
            if (_borrowed is null || !_borrowed[c]) _owner.ReturnChunk(chunk);
            _chunks[c] = null;
        }
        _borrowed = null;
        Used = 0;
    }
}
