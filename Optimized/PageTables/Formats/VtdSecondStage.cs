using DmaVerify.Contracts;

namespace DmaVerify.Optimized.PageTables;

/// <summary>VT-d second-stage tables of 3, 4 or 5 levels (39/48/57-bit IOVA), leaves 4K/2M/1G.</summary>
public readonly struct VtdSecondStage : IPteFormat
{
    private const ulong Sizes = (1UL << 12) | (1UL << 21) | (1UL << 30);
    private readonly int _levels;

    public VtdSecondStage(int levels = 4)
    {
        if (levels < VtdSsPte.MinLevels || levels > VtdSsPte.MaxLevels)
            throw new ArgumentOutOfRangeException(nameof(levels), levels, "VT-d second stage has 3, 4 or 5 levels");
        _levels = levels;
    }

    public PageTableFormatKind Kind => PageTableFormatKind.VtdSecondStage;
    public ulong PageSizes => Sizes;
    public ulong IovaBase => 0;
    public ulong IovaLast => Bits.LowMask(VtdSsPte.InputBits(_levels));
    public ulong PaLast => VtdSsPte.AddressMask | 0xFFF;
    public int EntryBytes => 8;
    public ulong EmptyEntry => 0;
    public int InitialLevels => _levels;
    public int MaxLevels => _levels;
    public bool TopHoldsLeaves => true;

    public int LevelShift(int level) => VtdSsPte.LevelShift(level);
    public int TableIndexBits(int level, int levels) => 9;
    public int LevelIndex(ulong iova, int level, int levels) => VtdSsPte.LevelIndex(iova, level);
    public int LeafLevel(ulong size) => Bits.IsPowerOfTwo(size) ? VtdSsPte.LeafLevel(Bits.Log2(size)) : -1;
    public bool PaAllowed(ulong pa, ulong size) => true;

    public ulong EncodeLeaf(ulong pa, ulong size, int level, Prot prot) =>
        VtdSsPte.EncodeLeaf(pa, level, (prot & Prot.Read) != 0, (prot & Prot.Write) != 0);
    public ulong EncodeTable(ulong tablePa, int level) => VtdSsPte.EncodeTable(tablePa);
    public PteKind Classify(ulong pte, int level) =>
        !VtdSsPte.IsPresent(pte) ? PteKind.Empty : VtdSsPte.IsLeaf(pte, level) ? PteKind.Leaf : PteKind.Table;
    public ulong LeafSize(ulong pte, int level) => 1UL << VtdSsPte.LevelShift(level);
    public ulong LeafAddress(ulong pte, int level) => VtdSsPte.DecodeAddress(pte);
    public Prot LeafProt(ulong pte, int level) =>
        (VtdSsPte.CanRead(pte) ? Prot.Read : Prot.None) | (VtdSsPte.CanWrite(pte) ? Prot.Write : Prot.None);
    public ulong TableAddress(ulong pte, int level) => VtdSsPte.DecodeAddress(pte);
    public bool IsCanonicalLeaf(ulong pte, int level) => VtdSsPte.IsCanonicalLeaf(pte, level);
}
