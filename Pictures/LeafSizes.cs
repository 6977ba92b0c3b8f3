using DmaVerify.Contracts;

namespace DmaVerify.Pictures;

/// <summary>How many page-table leaves of each size a set of leaves holds, and the bytes they
/// map, in the words <c>verify show</c> prints.</summary>
internal static class LeafSizes
{
    /// <summary>Formats with more page sizes than this (AMD v1 has one per power of two) list
    /// only the sizes in use, not a zero for every other size.</summary>
    private const int MostSizesListed = 6;

    /// <summary>Leaf count per size, smallest size first.</summary>
    public static SortedDictionary<ulong, int> Count(IEnumerable<Leaf> leaves)
    {
        var counts = new SortedDictionary<ulong, int>();
        foreach (var leaf in leaves)
            counts[leaf.Size] = counts.GetValueOrDefault(leaf.Size) + 1;
        return counts;
    }

    /// <summary>"4 KiB: 2 leaves, 8 KiB; 2 MiB: 0; 1 GiB: 0": every page size of the format
    /// (those in use only, for formats with many sizes), then any size the format lacks.</summary>
    public static string PerPageSize(IEnumerable<Leaf> leaves, PageTableGeometry format)
    {
        var counts = Count(leaves);
        var sizes = PageSizesOf(format);
        bool listAll = sizes.Count <= MostSizesListed;
        var parts = new List<string>();
        foreach (ulong size in sizes)
            if (listAll || counts.ContainsKey(size))
                parts.Add(Entry(Sizes.Human(size), counts.GetValueOrDefault(size), size));
        foreach (var (size, n) in counts.Where(c => !format.SupportsPageSize(c.Key)))
            parts.Add(Entry($"{Sizes.Human(size)} (not a page size of {format.Format})", n, size));
        int unused = sizes.Count(s => !counts.ContainsKey(s));
        if (!listAll && unused > 0)
            parts.Add(counts.Count == 0 ? $"no leaves of the format's {sizes.Count} page sizes" : $"none of the format's {unused} other page sizes");
        return string.Join("; ", parts);
    }

    /// <summary>"1 × 2 MiB, 1 × 4 KiB": the leaves of one range, largest first.</summary>
    public static string Short(IEnumerable<Leaf> leaves) =>
        string.Join(", ", Count(leaves).Reverse().Select(c => $"{c.Value} × {Sizes.Human(c.Key)}"));

    private static string Entry(string size, int n, ulong bytes) =>
        n == 0 ? $"{size}: 0" : $"{size}: {n} {(n == 1 ? "leaf" : "leaves")}, {Sizes.Human((UInt128)bytes * (ulong)n)}";

    private static List<ulong> PageSizesOf(PageTableGeometry format)
    {
        var sizes = new List<ulong>();
        for (int bit = 0; bit < 64; bit++)
            if ((format.PageSizes & (1UL << bit)) != 0) sizes.Add(1UL << bit);
        return sizes;
    }
}

/// <summary>Protection flags as the scenario text spells them: <c>rw</c>, <c>r|noexec</c>, <c>none</c>.</summary>
internal static class ProtText
{
    public static string Of(Prot prot)
    {
        var names = new List<string>();
        string rw = (prot & (Prot.Read | Prot.Write)) switch
        {
            Prot.Read | Prot.Write => "rw",
            Prot.Read => "r",
            Prot.Write => "w",
            _ => "",
        };
        if (rw.Length > 0) names.Add(rw);
        if (prot.HasFlag(Prot.Cache)) names.Add("cache");
        if (prot.HasFlag(Prot.NoExec)) names.Add("noexec");
        if (prot.HasFlag(Prot.Mmio)) names.Add("mmio");
        if (prot.HasFlag(Prot.Priv)) names.Add("priv");
        return names.Count == 0 ? "none" : string.Join('|', names);
    }
}
