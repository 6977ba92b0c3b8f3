namespace DmaVerify.Optimized.PageTables;

/// <summary>
/// PowerPC TCE bits (docs/linux-facts.md#powerpc-tce): 8-byte entries, READ 0x1, WRITE 0x2; the
/// real page number (pa &gt;&gt; page shift) sits above the page shift, with bits 0-51 of the
/// address being the RPN (TCE_RPN_BITS 52: the RPN mask has 52 - page_shift bits). An entry with
/// neither permission is unused. TCE page sizes used here: 4K, 64K, 2M, 16M.
/// </summary>
public static class TcePte
{
    public const ulong Read = 0x1;
    public const ulong Write = 0x2;
    public const int RpnBits = 52;
    public const ulong MaxPa = (1UL << RpnBits) - 1;

    public static bool IsSupportedPageShift(int pageShift) =>
        pageShift == 12 || pageShift == 16 || pageShift == 21 || pageShift == 24;

    public static ulong RpnMask(int pageShift) => Bits.LowMask(RpnBits - pageShift);

    /// <summary>((pa &gt;&gt; shift) &amp; rpn_mask) &lt;&lt; shift | perms.</summary>
    public static ulong Encode(ulong pa, int pageShift, bool read, bool write) =>
        (((pa >> pageShift) & RpnMask(pageShift)) << pageShift) | (read ? Read : 0) | (write ? Write : 0);

    public static ulong DecodeAddress(ulong pte, int pageShift) => ((pte >> pageShift) & RpnMask(pageShift)) << pageShift;

    public static bool IsValid(ulong pte) => (pte & (Read | Write)) != 0;

    public static bool CanRead(ulong pte) => (pte & Read) != 0;

    public static bool CanWrite(ulong pte) => (pte & Write) != 0;

    public static int LevelIndex(ulong iova, ulong windowBase, int pageShift) => (int)((iova - windowBase) >> pageShift);

    /// <summary>Valid, and nothing set but the RPN field and the two permission bits.</summary>
    public static bool IsCanonical(ulong pte, int pageShift) =>
        IsValid(pte) && (pte & ~((RpnMask(pageShift) << pageShift) | Read | Write)) == 0;
}
