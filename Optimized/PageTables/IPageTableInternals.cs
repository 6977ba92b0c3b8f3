namespace DmaVerify.Optimized.PageTables;

/// <summary>Seams for tests (Optimized.Tests sees internals): raw entries, a walk that ignores the
/// leaf-page array, and planting an empty table.</summary>
internal interface IPageTableInternals
{
    /// <summary>The raw entry for <paramref name="iova"/> at <paramref name="level"/>, or the
    /// empty entry when the path stops above that level.</summary>
    ulong RawEntryForTest(ulong iova, int level);
    bool InstallEmptyTableForTest(ulong iova, int level);
    bool TryTranslateByWalk(ulong iova, out Translation translation);
}
