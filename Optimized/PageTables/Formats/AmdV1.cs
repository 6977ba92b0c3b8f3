using DmaVerify.Contracts;

namespace DmaVerify.Optimized.PageTables;

/// <summary>
/// AMD IOMMU v1 tables: every power-of-two page size from 4 KiB to 2^51 except 512 GiB; the top
/// table holds only table pointers; three levels at first, the top grows on demand (up to six)
/// as far as the IOVA or the leaf size needs. <paramref name="inputBits"/> limits the IOVA.
/// </summary>
public readonly struct AmdV1 : IPteFormat
{
    private const ulong Sizes = (AmdV1Pte.OaMask) ^ (1UL << AmdV1Pte.BrokenSizeLog2);
    private readonly int _inputBits;

    public AmdV1(int inputBits = 64)
    {
        if (inputBits < 32 || inputBits > 64)
            throw new ArgumentOutOfRangeException(nameof(inputBits), inputBits, "AMD v1 input bits must be 32..64");
        _inputBits = inputBits;
    }

    public PageTableFormatKind Kind => PageTableFormatKind.AmdV1;
    public ulong PageSizes => Sizes;
    public ulong IovaBase => 0;
    public ulong IovaLast => Bits.LowMask(_inputBits);
    public ulong PaLast => AmdV1Pte.OaMask | 0xFFF;
    public int EntryBytes => 8;
    public ulong EmptyEntry => 0;
    public int InitialLevels => AmdV1Pte.InitialLevels;
    public int MaxLevels => AmdV1Pte.MaxLevels;
    public bool TopHoldsLeaves => false;

    public int LevelShift(int level) => AmdV1Pte.LevelShift(level);
    public int TableIndexBits(int level, int levels) => 9;
    public int LevelIndex(ulong iova, int level, int levels) => AmdV1Pte.LevelIndex(iova, level);
    public int LeafLevel(ulong size) => Bits.IsPowerOfTwo(size) ? AmdV1Pte.LeafLevel(Bits.Log2(size)) : -1;
    public bool PaAllowed(ulong pa, ulong size) => true;

    public ulong EncodeLeaf(ulong pa, ulong size, int level, Prot prot) =>
        AmdV1Pte.EncodeLeaf(pa, Bits.Log2(size), (prot & Prot.Read) != 0, (prot & Prot.Write) != 0);
    public ulong EncodeTable(ulong tablePa, int level) => AmdV1Pte.EncodeTable(tablePa, level);
    public PteKind Classify(ulong pte, int level) =>
        !AmdV1Pte.IsPresent(pte) ? PteKind.Empty : AmdV1Pte.IsLeaf(pte) ? PteKind.Leaf : PteKind.Table;
    public ulong LeafSize(ulong pte, int level) => 1UL << AmdV1Pte.DecodeLeafSizeLog2(pte, level);
    public ulong LeafAddress(ulong pte, int level) => AmdV1Pte.DecodeLeafAddress(pte, level);
    public Prot LeafProt(ulong pte, int level) =>
        (AmdV1Pte.CanRead(pte) ? Prot.Read : Prot.None) | (AmdV1Pte.CanWrite(pte) ? Prot.Write : Prot.None);
    public ulong TableAddress(ulong pte, int level) => AmdV1Pte.DecodeTableAddress(pte);
    public bool IsCanonicalLeaf(ulong pte, int level) => AmdV1Pte.IsCanonicalLeaf(pte, level);
}
