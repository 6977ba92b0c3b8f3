namespace DmaVerify.Optimized.PageTables;

/// <summary>
/// ARM LPAE (VMSAv8-64 long-descriptor) bits for the io-pgtable stage-1 and stage-2 formats
/// (docs/linux-facts.md#arm-lpae). Levels here use ARM's own numbering, 0 (top) to 3 (pages).
/// Descriptor type bits 1:0: 1 block (levels 1-2), 3 table (levels 0-2) or page (level 3);
/// bit 0 clear = invalid. AF bit 10, SH bits 9:8. Stage 1: AttrIndx 4:2, AP bits 7:6 (bit 6
/// unprivileged, bit 7 read-only). Stage 2: MemAttr 5:2, HAP bits 7:6 (bit 6 read, bit 7
/// write). XN bits 54:53. Output address bits 47:12; with the 64K granule PA bits 51:48 sit in
/// PTE bits 15:12.
/// </summary>
public static class LpaePte
{
    public const ulong Valid = 1UL;
    public const ulong TypeMask = 3UL, TypeBlock = 1UL, TypeTable = 3UL, TypePage = 3UL;
    public const int AttrShift = 2;
    public const ulong ApUnprivileged = 1UL << 6, ApReadOnly = 1UL << 7;
    public const ulong HapRead = 1UL << 6, HapWrite = 1UL << 7;
    public const ulong ShMask = 3UL << 8, ShOuter = 2UL << 8, ShInner = 3UL << 8;
    public const ulong AccessFlag = 1UL << 10;
    public const ulong ExecuteNever = 3UL << 53;
    /// <summary>MAIR indices the stage-1 format uses.</summary>
    public const ulong MairNonCacheable = 0, MairCacheable = 1, MairDevice = 2;
    /// <summary>Stage-2 MemAttr values.</summary>
    public const ulong MemAttrCacheable = 0xF, MemAttrNonCacheable = 0x5, MemAttrDevice = 0x1;
    public const ulong Address47To12 = 0x0000_FFFF_FFFF_F000UL;
    public const ulong Address47To16 = 0x0000_FFFF_FFFF_0000UL;
    /// <summary>PTE bits 15:12 carrying PA bits 51:48 with the 64K granule.</summary>
    public const ulong HighAddressField = 0xF000UL;
    public const int S2MaxConcatenatedBits = 4; // up to 16 concatenated tables

    public static int BitsPerLevel(int granuleShift) => granuleShift - 3;

    /// <summary>log2 of the span of one entry at ARM level <paramref name="lpaeLevel"/>.</summary>
    public static int BlockShift(int lpaeLevel, int granuleShift) =>
        granuleShift + (3 - lpaeLevel) * BitsPerLevel(granuleShift);

    public static int LevelIndex(ulong iova, int lpaeLevel, int granuleShift, int indexBits) =>
        (int)((iova >> BlockShift(lpaeLevel, granuleShift)) & Bits.LowMask(indexBits));

    /// <summary>Number of levels for an input size: ceil((ias - pg_shift) / bits_per_level);
    /// stage 2 starts one level lower, concatenating up to 16 tables, when the level-0 table
    /// would have at most 16 entries.</summary>
    public static int Levels(int ias, int granuleShift, bool stage2)
    {
        int bpl = BitsPerLevel(granuleShift);
        int vaBits = ias - granuleShift;
        int levels = (vaBits + bpl - 1) / bpl;
        if (stage2 && levels == 4 && vaBits - bpl * 3 <= S2MaxConcatenatedBits) levels = 3;
        return levels;
    }

    /// <summary>Index bits of the top table (the "pgd").</summary>
    public static int TopIndexBits(int ias, int granuleShift, bool stage2) =>
        ias - granuleShift - BitsPerLevel(granuleShift) * (Levels(ias, granuleShift, stage2) - 1);

    /// <summary>ARM level of a leaf of 2^sizeLog2 bytes (pages at 3, blocks at 1-2), or -1.</summary>
    public static int LeafLevel(int sizeLog2, int granuleShift)
    {
        int bpl = BitsPerLevel(granuleShift);
        int above = sizeLog2 - granuleShift;
        if (above < 0 || above % bpl != 0) return -1;
        int level = 3 - above / bpl;
        return level < 1 ? -1 : level;
    }

    public static ulong EncodeAddress(ulong pa, int granuleShift) =>
        granuleShift == 16
            ? (pa & Address47To16) | ((pa >> 36) & HighAddressField)
            : pa & Address47To12;

    public static ulong DecodeAddress(ulong pte, int granuleShift) =>
        granuleShift == 16
            ? (pte & Address47To16) | ((pte & HighAddressField) << 36)
            : pte & Address47To12;

    /// <summary>Attribute bits of a leaf (everything but address, AF and type). MMIO wins over
    /// CACHE for the memory type; inner-shareable exactly when the memory type is cacheable.</summary>
    public static ulong LeafAttributes(bool stage2, bool read, bool write, bool cache, bool mmio, bool noExec, bool priv)
    {
        bool cacheable = cache && !mmio;
        ulong bits = (cacheable ? ShInner : ShOuter) | (noExec ? ExecuteNever : 0);
        if (stage2)
        {
            ulong memAttr = mmio ? MemAttrDevice : cacheable ? MemAttrCacheable : MemAttrNonCacheable;
            return bits | (memAttr << AttrShift) | (read ? HapRead : 0) | (write ? HapWrite : 0);
        }
        ulong index = mmio ? MairDevice : cacheable ? MairCacheable : MairNonCacheable;
        return bits | (index << AttrShift) | (priv ? 0 : ApUnprivileged) | (write ? 0 : ApReadOnly);
    }

    public static ulong EncodeLeaf(ulong pa, int lpaeLevel, int granuleShift, ulong attributes) =>
        EncodeAddress(pa, granuleShift) | attributes | AccessFlag | (lpaeLevel == 3 ? TypePage : TypeBlock);

    public static ulong EncodeTable(ulong tablePa, int granuleShift) => EncodeAddress(tablePa, granuleShift) | TypeTable;

    /// <summary>0 = invalid, 1 = table, 2 = leaf (block or page); matches <see cref="PteKind"/>.
    /// Type 1 at level 3 is reserved and reads as invalid.</summary>
    public static int Kind(ulong pte, int lpaeLevel)
    {
        if ((pte & Valid) == 0) return 0;
        ulong type = pte & TypeMask;
        if (lpaeLevel == 3) return type == TypePage ? 2 : 0;
        return type == TypeBlock ? 2 : 1;
    }

    /// <summary>Stage 1 cannot express "no read": any valid leaf is readable.</summary>
    public static bool CanRead(ulong pte, bool stage2) => !stage2 || (pte & HapRead) != 0;

    public static bool CanWrite(ulong pte, bool stage2) => stage2 ? (pte & HapWrite) != 0 : (pte & ApReadOnly) == 0;

    public static ulong MemoryType(ulong pte, bool stage2) => (pte >> AttrShift) & (stage2 ? 0xFUL : 0x7UL);

    public static bool IsCacheable(ulong pte, bool stage2) =>
        MemoryType(pte, stage2) == (stage2 ? MemAttrCacheable : MairCacheable);

    public static bool IsDevice(ulong pte, bool stage2) =>
        MemoryType(pte, stage2) == (stage2 ? MemAttrDevice : MairDevice);

    public static bool IsNoExec(ulong pte) => (pte & ExecuteNever) == ExecuteNever;

    /// <summary>Stage 1 only: privileged-only when the unprivileged AP bit is clear.</summary>
    public static bool IsPrivileged(ulong pte, bool stage2) => !stage2 && (pte & ApUnprivileged) == 0;

    /// <summary>A leaf as this code writes it: right type for the level, AF set, only address,
    /// attribute and XN bits, a memory type and shareability this code uses, the address
    /// aligned to the leaf size.</summary>
    public static bool IsCanonicalLeaf(ulong pte, int lpaeLevel, int granuleShift, bool stage2)
    {
        if (lpaeLevel < 1 || lpaeLevel > 3 || Kind(pte, lpaeLevel) != 2) return false;
        if ((pte & AccessFlag) == 0) return false;
        ulong addressBits = granuleShift == 16 ? Address47To16 | HighAddressField : Address47To12 & ~Bits.LowMask(granuleShift);
        ulong allowed = addressBits | ExecuteNever | AccessFlag | ShMask | (0xFFUL << AttrShift) | TypeMask;
        if ((pte & ~allowed) != 0) return false;
        ulong xn = pte & ExecuteNever;
        if (xn != 0 && xn != ExecuteNever) return false;
        ulong sh = pte & ShMask;
        bool cacheable = IsCacheable(pte, stage2);
        if (sh != (cacheable ? ShInner : ShOuter)) return false;
        ulong memType = MemoryType(pte, stage2);
        if (stage2 ? memType != MemAttrCacheable && memType != MemAttrNonCacheable && memType != MemAttrDevice : memType > MairDevice)
            return false;
        if (stage2 && (pte & (HapRead | HapWrite)) == 0) return false;
        return (DecodeAddress(pte, granuleShift) & Bits.LowMask(BlockShift(lpaeLevel, granuleShift))) == 0;
    }
}
