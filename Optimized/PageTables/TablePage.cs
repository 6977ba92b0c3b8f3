namespace DmaVerify.Optimized.PageTables;

/// <summary>
/// One page-table page: its (simulated) physical address, its entries, how many are in use and
/// a one-bit-per-slot occupancy map, so the walker knows in O(1) when a table has become empty
/// and enumerations skip 64 empty slots at a time (a 64K-granule table has 8192 slots). Every
/// write goes through <see cref="Fill"/>, <see cref="Replace"/> or <see cref="Clear"/>.
/// </summary>
internal sealed class TablePage
{
    public TablePage(int frame, ulong pa, ulong[] entries, ulong[] occupied)
    {
        Frame = frame;
        Pa = pa;
        Entries = entries;
        Occupied = occupied;
    }

    public int Frame { get; }
    public ulong Pa { get; }
    public ulong[] Entries { get; }
    /// <summary>Bit i set iff slot i is in use.</summary>
    public ulong[] Occupied { get; }
    /// <summary>Non-empty entries (each replicated slot of a large leaf counts).</summary>
    public int Used { get; private set; }

    /// <summary>Writes an unused slot.</summary>
    public void Fill(int index, ulong value)
    {
        Entries[index] = value;
        Occupied[index >> 6] |= 1UL << index;
        Used++;
    }

    /// <summary>Overwrites a slot that stays in use.</summary>
    public void Replace(int index, ulong value) => Entries[index] = value;

    /// <summary>Empties a used slot.</summary>
    public void Clear(int index, ulong empty)
    {
        Entries[index] = empty;
        Occupied[index >> 6] &= ~(1UL << index);
        Used--;
    }

    public static int OccupancyWords(int entries) => (entries + 63) >> 6;

    /// <summary>The first used slot at or after <paramref name="from"/>, or -1.</summary>
    public int NextUsed(int from)
    {
        int word = from >> 6;
        if (word >= Occupied.Length) return -1;
        ulong bits = Occupied[word] & (ulong.MaxValue << (from & 63));
        while (bits == 0)
        {
            if (++word >= Occupied.Length) return -1;
            bits = Occupied[word];
        }
        return (word << 6) + System.Numerics.BitOperations.TrailingZeroCount(bits);
    }
}
