using DmaVerify.Contracts;

namespace DmaVerify.Optimized.PageTables;

/// <summary>
/// The K8 GART's flat translation table over an aperture below 4 GiB: 4 KiB pages, 32-bit
/// entries, 40-bit physical addresses, no permission bits (every mapping reads as R|W).
/// Unused slots hold an entry pointing at a scratch page rather than 0 (gart_unmapped_entry),
/// so the scratch page itself cannot be mapped.
/// </summary>
public readonly struct K8Gart : IPteFormat
{
    /// <summary>The scratch page when none is given: the last 4 KiB page below 2^40.</summary>
    public const ulong DefaultScratchPa = GartPte.MaxPa & ~0xFFFUL;
    private readonly ulong _base, _size, _scratchPa;
    private readonly uint _scratchEntry;

    public K8Gart(ulong apertureBase, ulong apertureSize, ulong scratchPa = DefaultScratchPa)
    {
        if (!Bits.IsPowerOfTwo(apertureSize) || apertureSize < 0x1000)
            throw new ArgumentOutOfRangeException(nameof(apertureSize), apertureSize, "aperture size must be a power of two of at least 4 KiB");
        if ((apertureBase & 0xFFF) != 0 || apertureBase > (1UL << 32) - apertureSize)
            throw new ArgumentOutOfRangeException(nameof(apertureBase), apertureBase, "aperture must be 4 KiB aligned and lie below 4 GiB");
        if ((scratchPa & 0xFFF) != 0 || scratchPa > GartPte.MaxPa)
            throw new ArgumentOutOfRangeException(nameof(scratchPa), scratchPa, "scratch page must be a 4 KiB page below 2^40");
        _base = apertureBase;
        _size = apertureSize;
        _scratchPa = scratchPa;
        _scratchEntry = GartPte.Encode(scratchPa);
    }

    public ulong ScratchPa => _scratchPa;

    public PageTableFormatKind Kind => PageTableFormatKind.Gart;
    public ulong PageSizes => 1UL << GartPte.PageShift;
    public ulong IovaBase => _base;
    public ulong IovaLast => _base + (_size - 1);
    public ulong PaLast => GartPte.MaxPa;
    public int EntryBytes => 4;
    public ulong EmptyEntry => _scratchEntry;
    public int InitialLevels => 1;
    public int MaxLevels => 1;
    public bool TopHoldsLeaves => true;

    public int LevelShift(int level) => GartPte.PageShift;
    public int TableIndexBits(int level, int levels) => Bits.Log2(_size) - GartPte.PageShift;
    public int LevelIndex(ulong iova, int level, int levels) => GartPte.LevelIndex(iova, _base);
    public int LeafLevel(ulong size) => size == 1UL << GartPte.PageShift ? 0 : -1;
    public bool PaAllowed(ulong pa, ulong size) => _scratchPa < pa || _scratchPa - pa >= size;

    public ulong EncodeLeaf(ulong pa, ulong size, int level, Prot prot) => GartPte.Encode(pa);
    public ulong EncodeTable(ulong tablePa, int level) => throw new InvalidOperationException("the GART table is flat");
    public PteKind Classify(ulong pte, int level) =>
        pte == _scratchEntry || !GartPte.IsValid((uint)pte) ? PteKind.Empty : PteKind.Leaf;
    public ulong LeafSize(ulong pte, int level) => 1UL << GartPte.PageShift;
    public ulong LeafAddress(ulong pte, int level) => GartPte.Decode((uint)pte);
    public Prot LeafProt(ulong pte, int level) => Prot.Read | Prot.Write;
    public ulong TableAddress(ulong pte, int level) => throw new InvalidOperationException("the GART table is flat");
    public bool IsCanonicalLeaf(ulong pte, int level) =>
        level == 0 && pte <= uint.MaxValue && pte != _scratchEntry && GartPte.IsCanonical((uint)pte);
}
