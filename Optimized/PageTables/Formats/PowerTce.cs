using DmaVerify.Contracts;

namespace DmaVerify.Optimized.PageTables;

/// <summary>
/// A PowerPC TCE table: one flat array of 8-byte TCEs over a DMA window of 2^windowBits bytes
/// starting at <c>windowBase</c>, with one TCE page size per table (4K, 64K, 2M or 16M).
/// Entries are kept as values here; the hardware table stores them big-endian.
/// </summary>
public readonly struct PowerTce : IPteFormat
{
    private readonly ulong _base;
    private readonly int _windowBits, _pageShift;

    public PowerTce(ulong windowBase = 0, int windowBits = 31, int pageShift = 12)
    {
        if (!TcePte.IsSupportedPageShift(pageShift))
            throw new ArgumentOutOfRangeException(nameof(pageShift), pageShift, "TCE page shift must be 12, 16, 21 or 24");
        if (windowBits <= pageShift || windowBits - pageShift > 24 || windowBits > 63)
            throw new ArgumentOutOfRangeException(nameof(windowBits), windowBits, "window must hold 2..2^24 TCEs");
        if ((windowBase & Bits.LowMask(pageShift)) != 0 || windowBase > ulong.MaxValue - Bits.LowMask(windowBits))
            throw new ArgumentOutOfRangeException(nameof(windowBase), windowBase, "window base must be page aligned and the window must not wrap");
        _base = windowBase;
        _windowBits = windowBits;
        _pageShift = pageShift;
    }

    public int PageShift => _pageShift;

    public PageTableFormatKind Kind => PageTableFormatKind.Tce;
    public ulong PageSizes => 1UL << _pageShift;
    public ulong IovaBase => _base;
    public ulong IovaLast => _base + Bits.LowMask(_windowBits);
    public ulong PaLast => TcePte.MaxPa;
    public int EntryBytes => 8;
    public ulong EmptyEntry => 0;
    public int InitialLevels => 1;
    public int MaxLevels => 1;
    public bool TopHoldsLeaves => true;

    public int LevelShift(int level) => _pageShift;
    public int TableIndexBits(int level, int levels) => _windowBits - _pageShift;
    public int LevelIndex(ulong iova, int level, int levels) => TcePte.LevelIndex(iova, _base, _pageShift);
    public int LeafLevel(ulong size) => size == 1UL << _pageShift ? 0 : -1;
    public bool PaAllowed(ulong pa, ulong size) => true;

    /// <summary>As tce_build does: every TCE grants the device read (TCE_PCI_READ); write is
    /// added when the mapping asks for it.</summary>
    public ulong EncodeLeaf(ulong pa, ulong size, int level, Prot prot) =>
        TcePte.Encode(pa, _pageShift, read: true, (prot & Prot.Write) != 0);
    public ulong EncodeTable(ulong tablePa, int level) => throw new InvalidOperationException("a TCE table is flat");
    public PteKind Classify(ulong pte, int level) => TcePte.IsValid(pte) ? PteKind.Leaf : PteKind.Empty;
    public ulong LeafSize(ulong pte, int level) => 1UL << _pageShift;
    public ulong LeafAddress(ulong pte, int level) => TcePte.DecodeAddress(pte, _pageShift);
    public Prot LeafProt(ulong pte, int level) =>
        (TcePte.CanRead(pte) ? Prot.Read : Prot.None) | (TcePte.CanWrite(pte) ? Prot.Write : Prot.None);
    public ulong TableAddress(ulong pte, int level) => throw new InvalidOperationException("a TCE table is flat");
    public bool IsCanonicalLeaf(ulong pte, int level) => level == 0 && TcePte.IsCanonical(pte, _pageShift);
}
