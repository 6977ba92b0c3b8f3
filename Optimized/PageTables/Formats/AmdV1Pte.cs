namespace DmaVerify.Optimized.PageTables;

/// <summary>
/// AMD IOMMU v1 PTE bits (docs/linux-facts.md#amd-v1). PR bit 0, Next Level bits 11:9, OA bits
/// 51:12, IR bit 61, IW bit 62. 512 entries per table, nine index bits per level above 4 KiB. Next
/// Level 1..6 points at a table of that (1-based AMD) level; 0 is a leaf of the level's natural
/// size; 7 is a leaf whose size 2^n is encoded in the address: OA bits [n-2:12] all ones and bit
/// n-1 zero, replicated over the 2^((n-12) mod 9) slots it covers.
/// </summary>
public static class AmdV1Pte
{
    public const ulong Present = 1UL << 0;
    public const int NextLevelShift = 9;
    public const ulong NextLevelMask = 7UL << NextLevelShift;
    /// <summary>Bits 51:12.</summary>
    public const ulong OaMask = 0x000F_FFFF_FFFF_F000UL;
    public const ulong IoRead = 1UL << 61;
    public const ulong IoWrite = 1UL << 62;
    public const int NextLevelSized = 7;
    /// <summary>512 GiB leaves are not supported (hardware bug, GENMASK(51,12) ^ SZ_512G).</summary>
    public const int BrokenSizeLog2 = 39;
    public const int InitialLevels = 3, MaxLevels = 6;

    public static int LevelShift(int level) => 12 + 9 * level;

    public static int LevelIndex(ulong iova, int level) => (int)((iova >> LevelShift(level)) & 0x1FF);

    /// <summary>Level holding a leaf of 2^sizeLog2 bytes (-1 if unsupported: below 4K, above
    /// 2^51, or 512 GiB).</summary>
    public static int LeafLevel(int sizeLog2) =>
        sizeLog2 < 12 || sizeLog2 > 51 || sizeLog2 == BrokenSizeLog2 ? -1 : (sizeLog2 - 12) / 9;

    /// <summary>log2 of the number of slots a leaf of 2^sizeLog2 occupies at its level.</summary>
    public static int SlotCountLog2(int sizeLog2) => (sizeLog2 - 12) % 9;

    public static ulong EncodeLeaf(ulong pa, int sizeLog2, bool read, bool write)
    {
        ulong perms = Present | (read ? IoRead : 0) | (write ? IoWrite : 0);
        if (SlotCountLog2(sizeLog2) == 0)
            return (pa & OaMask) | perms; // Next Level 0: the level's natural size
        ulong size = 1UL << sizeLog2;
        ulong oa = (pa | (size - 1)) & ~(size >> 1) & OaMask;
        return oa | ((ulong)NextLevelSized << NextLevelShift) | perms;
    }

    /// <summary>An entry at <paramref name="level"/> (0-based height) pointing at the table
    /// one below; its Next Level field is the child's 1-based AMD level, which equals
    /// <paramref name="level"/>. Written with IR|IW (permissions are ANDed down the walk).</summary>
    public static ulong EncodeTable(ulong tablePa, int level) =>
        (tablePa & OaMask) | ((ulong)(level & 7) << NextLevelShift) | IoRead | IoWrite | Present;

    public static bool IsPresent(ulong pte) => (pte & Present) != 0;

    public static int NextLevel(ulong pte) => (int)((pte >> NextLevelShift) & 7);

    public static bool IsLeaf(ulong pte) => NextLevel(pte) == 0 || NextLevel(pte) == NextLevelSized;

    /// <summary>PTE_PAGE_SIZE for Next Level 7 (1 &lt;&lt; (1 + first zero bit of pte|0xFFF)),
    /// else the natural size of the level.</summary>
    public static int DecodeLeafSizeLog2(ulong pte, int level) =>
        NextLevel(pte) == NextLevelSized ? 1 + Bits.FirstZeroBit(pte | 0xFFF) : LevelShift(level);

    public static ulong DecodeLeafAddress(ulong pte, int level) =>
        pte & OaMask & ~Bits.LowMask(DecodeLeafSizeLog2(pte, level));

    public static ulong DecodeTableAddress(ulong pte) => pte & OaMask;

    public static bool CanRead(ulong pte) => (pte & IoRead) != 0;

    public static bool CanWrite(ulong pte) => (pte & IoWrite) != 0;

    /// <summary>A leaf as this code writes it at <paramref name="level"/>: present, IR or IW, no
    /// bits outside PR/NL/OA/IR/IW, a supported size that belongs at this level (Next Level 0
    /// exactly for natural sizes), natural-size address aligned.</summary>
    public static bool IsCanonicalLeaf(ulong pte, int level)
    {
        if (!IsPresent(pte) || !IsLeaf(pte)) return false;
        if ((pte & ~(OaMask | NextLevelMask | Present | IoRead | IoWrite)) != 0) return false;
        if ((pte & (IoRead | IoWrite)) == 0) return false;
        int sizeLog2 = DecodeLeafSizeLog2(pte, level);
        if (LeafLevel(sizeLog2) != level) return false;
        bool natural = SlotCountLog2(sizeLog2) == 0;
        if (natural != (NextLevel(pte) == 0)) return false;
        return natural ? (pte & OaMask & Bits.LowMask(sizeLog2)) == 0 : true;
    }
}
