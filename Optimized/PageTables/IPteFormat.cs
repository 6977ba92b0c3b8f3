using DmaVerify.Contracts;

namespace DmaVerify.Optimized.PageTables;

/// <summary>
/// A page-table format as the generic walker needs it: geometry and PTE encode/decode. Each
/// format is a small readonly struct (one file each under Formats/) that forwards to its own
/// static pure bit-layout class (VtdSsPte, AmdV1Pte, LpaePte, GartPte, TcePte).
///
/// Levels are numbered by height, as generic_pt and AMD/VT-d do: level 0 holds the smallest
/// pages, the top table is level <c>levels - 1</c>. (ARM numbers the other way round; the LPAE
/// struct converts.) <c>levels</c> is passed in because AMD v1 grows its top level.
/// </summary>
public interface IPteFormat
{
    PageTableFormatKind Kind { get; }
    /// <summary>Supported leaf sizes, bit n set = 2^n bytes (pgsize_bitmap).</summary>
    ulong PageSizes { get; }
    /// <summary>First translatable IOVA (the GART aperture or TCE window start; else 0).</summary>
    ulong IovaBase { get; }
    /// <summary>Last IOVA the format may translate (input address size).</summary>
    ulong IovaLast { get; }
    /// <summary>Largest physical address a leaf can hold.</summary>
    ulong PaLast { get; }
    /// <summary>Bytes per entry in the table (8, or 4 for GART).</summary>
    int EntryBytes { get; }
    /// <summary>What an unused slot holds: 0, or the GART's scratch-page entry.</summary>
    ulong EmptyEntry { get; }
    int InitialLevels { get; }
    /// <summary>Equal to <see cref="InitialLevels"/> unless the top level grows on demand.</summary>
    int MaxLevels { get; }
    /// <summary>False when the top table may hold only table pointers (AMD v1).</summary>
    bool TopHoldsLeaves { get; }

    /// <summary>log2 of the IOVA span of one entry at <paramref name="level"/>.</summary>
    int LevelShift(int level);
    /// <summary>Index bits of a table at <paramref name="level"/> (the top may differ).</summary>
    int TableIndexBits(int level, int levels);
    int LevelIndex(ulong iova, int level, int levels);
    /// <summary>The level a leaf of <paramref name="size"/> lives at, or -1.</summary>
    int LeafLevel(ulong size);
    /// <summary>False for physical ranges the format cannot map (the GART scratch page).</summary>
    bool PaAllowed(ulong pa, ulong size);

    ulong EncodeLeaf(ulong pa, ulong size, int level, Prot prot);
    ulong EncodeTable(ulong tablePa, int level);
    PteKind Classify(ulong pte, int level);
    ulong LeafSize(ulong pte, int level);
    ulong LeafAddress(ulong pte, int level);
    Prot LeafProt(ulong pte, int level);
    ulong TableAddress(ulong pte, int level);
    /// <summary>INV-14: only defined bits set, address aligned to the leaf size.</summary>
    bool IsCanonicalLeaf(ulong pte, int level);
}
