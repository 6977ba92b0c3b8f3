using DmaVerify.Contracts;

namespace DmaVerify.Optimized.PageTables;

/// <summary>
/// ARM LPAE stage-1 or stage-2 tables with a 4K, 16K or 64K granule (docs/linux-facts.md#arm-lpae).
/// Page sizes: 4K → {4K, 2M, 1G}; 16K → {16K, 32M}; 64K → {64K, 512M, and 4T when OAS &gt; 48},
/// optionally narrowed by <c>pageSizes</c>. Geometry from IAS: levels = ceil((ias - pg_shift) /
/// bits_per_level); stage 2 concatenates up to 16 top tables. The generic walker's level L is
/// ARM level 3 - L.
/// </summary>
public readonly struct ArmLpae : IPteFormat
{
    private readonly int _granuleShift, _ias, _oas, _levels, _topBits;
    private readonly bool _stage2;
    private readonly ulong _pageSizes;

    public ArmLpae(ulong granule = 1UL << 12, int ias = 48, int oas = 0, bool stage2 = false, ulong pageSizes = 0)
    {
        if (granule != 1UL << 12 && granule != 1UL << 14 && granule != 1UL << 16)
            throw new ArgumentOutOfRangeException(nameof(granule), granule, "LPAE granule must be 4K, 16K or 64K");
        _granuleShift = Bits.Log2(granule);
        int maxBits = _granuleShift == 16 ? 52 : 48;
        if (oas == 0) oas = maxBits;
        if (ias < 32 || ias > maxBits) throw new ArgumentOutOfRangeException(nameof(ias), ias, $"IAS must be 32..{maxBits}");
        if (oas < 32 || oas > maxBits) throw new ArgumentOutOfRangeException(nameof(oas), oas, $"OAS must be 32..{maxBits}");
        _ias = ias;
        _oas = oas;
        _stage2 = stage2;
        _levels = LpaePte.Levels(ias, _granuleShift, stage2);
        _topBits = LpaePte.TopIndexBits(ias, _granuleShift, stage2);
        ulong supported = DefaultPageSizes(_granuleShift, oas);
        _pageSizes = pageSizes == 0 ? supported : pageSizes & supported;
        if ((_pageSizes & granule) == 0)
            throw new ArgumentException($"page sizes {Hex.Format(pageSizes)} must include the granule {Hex.Format(granule)}", nameof(pageSizes));
        // Leaves must fit below the top (a block larger than the whole IOVA space is useless).
        for (int bit = 63; bit >= 0; bit--)
            if ((_pageSizes & (1UL << bit)) != 0 && 3 - LpaePte.LeafLevel(bit, _granuleShift) > _levels - 1)
                _pageSizes &= ~(1UL << bit);
    }

    private static ulong DefaultPageSizes(int granuleShift, int oas) => granuleShift switch
    {
        12 => (1UL << 12) | (1UL << 21) | (1UL << 30),
        14 => (1UL << 14) | (1UL << 25),
        _ => (1UL << 16) | (1UL << 29) | (oas > 48 ? 1UL << 42 : 0),
    };

    public bool Stage2 => _stage2;
    public int GranuleShift => _granuleShift;
    public int InputBits => _ias;
    public int OutputBits => _oas;

    public PageTableFormatKind Kind => _stage2 ? PageTableFormatKind.ArmLpaeS2 : PageTableFormatKind.ArmLpaeS1;
    public ulong PageSizes => _pageSizes;
    public ulong IovaBase => 0;
    public ulong IovaLast => Bits.LowMask(_ias);
    public ulong PaLast => Bits.LowMask(_oas);
    public int EntryBytes => 8;
    public ulong EmptyEntry => 0;
    public int InitialLevels => _levels;
    public int MaxLevels => _levels;
    public bool TopHoldsLeaves => true;

    public int LevelShift(int level) => LpaePte.BlockShift(3 - level, _granuleShift);
    public int TableIndexBits(int level, int levels) => level == levels - 1 ? _topBits : LpaePte.BitsPerLevel(_granuleShift);
    public int LevelIndex(ulong iova, int level, int levels) =>
        LpaePte.LevelIndex(iova, 3 - level, _granuleShift, TableIndexBits(level, levels));
    public int LeafLevel(ulong size)
    {
        if (!Bits.IsPowerOfTwo(size)) return -1;
        int lpaeLevel = LpaePte.LeafLevel(Bits.Log2(size), _granuleShift);
        return lpaeLevel < 0 ? -1 : 3 - lpaeLevel;
    }
    public bool PaAllowed(ulong pa, ulong size) => true;

    public ulong EncodeLeaf(ulong pa, ulong size, int level, Prot prot) =>
        LpaePte.EncodeLeaf(pa, 3 - level, _granuleShift, LpaePte.LeafAttributes(_stage2,
            (prot & Prot.Read) != 0, (prot & Prot.Write) != 0, (prot & Prot.Cache) != 0,
            (prot & Prot.Mmio) != 0, (prot & Prot.NoExec) != 0, (prot & Prot.Priv) != 0));
    public ulong EncodeTable(ulong tablePa, int level) => LpaePte.EncodeTable(tablePa, _granuleShift);
    public PteKind Classify(ulong pte, int level) => (PteKind)LpaePte.Kind(pte, 3 - level);
    public ulong LeafSize(ulong pte, int level) => 1UL << LpaePte.BlockShift(3 - level, _granuleShift);
    public ulong LeafAddress(ulong pte, int level) => LpaePte.DecodeAddress(pte, _granuleShift);
    public Prot LeafProt(ulong pte, int level) =>
        (LpaePte.CanRead(pte, _stage2) ? Prot.Read : Prot.None)
        | (LpaePte.CanWrite(pte, _stage2) ? Prot.Write : Prot.None)
        | (LpaePte.IsCacheable(pte, _stage2) ? Prot.Cache : Prot.None)
        | (LpaePte.IsDevice(pte, _stage2) ? Prot.Mmio : Prot.None)
        | (LpaePte.IsNoExec(pte) ? Prot.NoExec : Prot.None)
        | (LpaePte.IsPrivileged(pte, _stage2) ? Prot.Priv : Prot.None);
    public ulong TableAddress(ulong pte, int level) => LpaePte.DecodeAddress(pte, _granuleShift);
    public bool IsCanonicalLeaf(ulong pte, int level) => LpaePte.IsCanonicalLeaf(pte, 3 - level, _granuleShift, _stage2);
}
