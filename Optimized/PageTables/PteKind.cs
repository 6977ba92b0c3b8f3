namespace DmaVerify.Optimized.PageTables;

/// <summary>What one page-table entry is, as the generic walker sees it.</summary>
public enum PteKind
{
    /// <summary>Nothing mapped here (0, an invalid descriptor, or the GART scratch entry).</summary>
    Empty = 0,
    /// <summary>Points at a table of the next lower level.</summary>
    Table = 1,
    /// <summary>Translates (part of) a page; may be one of several replicated slots.</summary>
    Leaf = 2,
}
