namespace DmaVerify.Optimized.PageTables;

/// <summary>
/// Intel VT-d second-stage PTE bits (docs/linux-facts.md#vt-d-second-stage). R bit 0, W bit 1, PS
/// (superpage) bit 7, address bits 51:12. There is no present bit: an entry is present iff it is
/// non-zero, so leaves must grant R or W, and table entries are written with R|W. Nine index bits
/// per level above the 4 KiB page; leaves at levels 0-2 (4 KiB, 2 MiB, 1 GiB).
/// </summary>
public static class VtdSsPte
{
    public const ulong Read = 1UL << 0;
    public const ulong Write = 1UL << 1;
    public const ulong PageSize = 1UL << 7;
    /// <summary>Bits 51:12.</summary>
    public const ulong AddressMask = 0x000F_FFFF_FFFF_F000UL;
    public const int MinLevels = 3, MaxLevels = 5;

    public static int LevelShift(int level) => 12 + 9 * level;

    /// <summary>IOVA bits [LevelShift+8 : LevelShift].</summary>
    public static int LevelIndex(ulong iova, int level) => (int)((iova >> LevelShift(level)) & 0x1FF);

    /// <summary>Input address bits of a table with <paramref name="levels"/> levels (39/48/57).</summary>
    public static int InputBits(int levels) => 12 + 9 * levels;

    /// <summary>Level of a 4K/2M/1G leaf, -1 for any other size.</summary>
    public static int LeafLevel(int sizeLog2) => sizeLog2 == 12 ? 0 : sizeLog2 == 21 ? 1 : sizeLog2 == 30 ? 2 : -1;

    public static ulong EncodeLeaf(ulong pa, int level, bool read, bool write) =>
        (pa & AddressMask) | (read ? Read : 0) | (write ? Write : 0) | (level > 0 ? PageSize : 0);

    public static ulong EncodeTable(ulong tablePa) => (tablePa & AddressMask) | Read | Write;

    public static bool IsPresent(ulong pte) => pte != 0;

    /// <summary>For a present entry: level 0 entries are always pages; above, PS marks a superpage.</summary>
    public static bool IsLeaf(ulong pte, int level) => level == 0 || (pte & PageSize) != 0;

    public static ulong DecodeAddress(ulong pte) => pte & AddressMask;

    public static bool CanRead(ulong pte) => (pte & Read) != 0;

    public static bool CanWrite(ulong pte) => (pte & Write) != 0;

    /// <summary>A leaf as this code writes it: level 0-2, R or W, PS exactly above level 0, no
    /// other bit, address aligned to the leaf size.</summary>
    public static bool IsCanonicalLeaf(ulong pte, int level)
    {
        if (level < 0 || level > 2) return false;
        ulong allowed = AddressMask | Read | Write | (level > 0 ? PageSize : 0);
        if ((pte & ~allowed) != 0) return false;
        if ((pte & (Read | Write)) == 0) return false;
        if (level > 0 && (pte & PageSize) == 0) return false;
        return (DecodeAddress(pte) & ((1UL << LevelShift(level)) - 1)) == 0;
    }
}
