using DmaVerify.Contracts;

namespace DmaVerify.Model;

public static partial class InvariantChecker
{
    /// <summary>
    /// INV-14: page tables are canonical. Only paging domains hold leaves; each leaf is keyed
    /// by its IOVA, has a page size of the domain's format, IOVA and phys aligned to that size,
    /// phys + size − 1 ≤ the format's largest output address, IOVA range inside the aperture,
    /// Read or Write permission, and overlaps no other leaf. When a system reports its table
    /// pages, the pages it holds (less those waiting for a flush before they may be freed)
    /// must not exceed what the leaves need: the root plus, for each lower level, each
    /// distinct table (IOVA prefix above that level's index bits) with a leaf below it. A
    /// table counts as one table page whatever its byte size (flat GART/TCE tables are one).
    /// </summary>
    private static void CheckPageTables(CheckContext c, List<Violation> output)
    {
        foreach (var domain in c.JudgedDomains)
        {
            var format = domain.Format;
            if (format is null)
            {
                output.Add(new Violation(Inv14, null, null, $"domain {domain.Id} has no page-table format"));
                continue;
            }
            if (format.PageSizes == 0)
                output.Add(new Violation(Inv14, null, null, $"domain {domain.Id}: format {format.Format} supports no page size"));
            int leafCount = domain.Leaves?.Count ?? 0;
            if (leafCount > 0 && !domain.IsPaging)
                output.Add(new Violation(Inv14, null, null, $"domain {domain.Id} is a {domain.Type} domain but holds {leafCount} page-table leaves"));
            foreach (var (key, leaf) in domain.Leaves ?? [])
            {
                if (leaf is null)
                {
                    output.Add(new Violation(Inv14, null, null, $"domain {domain.Id}: leaf slot {Hex.Format(key)} is empty"));
                    continue;
                }
                if (key != leaf.Iova)
                    output.Add(new Violation(Inv14, null, null, $"domain {domain.Id}: leaf {leaf} is filed under IOVA {Hex.Format(key)}"));
                CheckLeaf(domain, format, leaf, output);
            }

            var leaves = c.LeavesOf(domain);
            Leaf? reach = null;
            foreach (var leaf in leaves.Leaves)
            {
                if (reach is not null && leaf.Iova <= LeafIndex.LastOf(reach))
                    output.Add(new Violation(Inv14, null, leaf.Range.Intersect(reach.Range), $"domain {domain.Id}: leaves {reach} and {leaf} overlap"));
                if (reach is null || LeafIndex.LastOf(leaf) > LeafIndex.LastOf(reach)) reach = leaf;
            }

            if (domain.TablePages is int held)
            {
                int pending = domain.PendingFreeTablePages ?? 0;
                int inUse = held - pending;
                var levelBits = format.LevelBits;
                if (pending < 0 || inUse < 0)
                    output.Add(new Violation(Inv14, null, null, $"domain {domain.Id}: {held} table pages held with {pending} pending free is not a possible count"));
                else if (levelBits is null || levelBits.Count == 0)
                    output.Add(new Violation(Inv14, null, null, $"domain {domain.Id}: format {format.Format} has no levels to count table pages with"));
                else
                {
                    long needed = TablePagesNeeded(format, levelBits, leaves.Leaves);
                    if (inUse > needed)
                        output.Add(new Violation(Inv14, null, null,
                            $"domain {domain.Id}: {inUse} table pages in use ({held} held, {pending} waiting for a flush) but the leaves need only {needed}: page-table memory leak"));
                }
            }
        }
    }

    private static void CheckLeaf(DomainState domain, PageTableGeometry format, Leaf leaf, List<Violation> output)
    {
        void Report(AddrRange? range, string text) => output.Add(new Violation(Inv14, null, range, $"domain {domain.Id}: leaf {leaf} {text}"));
        if (!CheckContext.TryRange(leaf.Iova, leaf.Size, out var range))
        {
            Report(null, "is empty or its IOVA range wraps past 2^64");
            return;
        }
        if (!format.SupportsPageSize(leaf.Size))
            Report(range, $"has a page size the format does not support ({format.Describe()})");
        else if (leaf.Iova % leaf.Size != 0 || leaf.Phys % leaf.Size != 0)
            Report(range, $"is not aligned to its page size {Hex.Format(leaf.Size)}");
        if (leaf.Size - 1 > ulong.MaxValue - leaf.Phys || leaf.Phys + (leaf.Size - 1) > format.MaxOutput)
            Report(range, $"reaches phys beyond the format's {format.OutputBits}-bit output ({Hex.Format(format.MaxOutput)})");
        if (!domain.Aperture.Contains(range))
            Report(range, $"lies outside the aperture {domain.Aperture}");
        if ((leaf.Prot & ReadWrite) == 0)
            Report(range, "grants neither read nor write");
    }

    /// <summary>Root plus each distinct (level, IOVA prefix) table that holds a leaf below it.
    /// A leaf sits at the shallowest level whose entry size is at most its size (AMD v1's
    /// in-between sizes are runs of entries at that level).</summary>
    internal static long TablePagesNeeded(PageTableGeometry format, IReadOnlyList<int> levelBits, IEnumerable<Leaf> leaves)
    {
        int n = levelBits.Count;
        int shift = format.GranuleShift;
        // coverShift[k]: log2 of the bytes one table at level k spans; entryShift[k]: of one entry.
        var entryShift = new int[n];
        var coverShift = new int[n];
        int acc = shift;
        for (int k = n - 1; k >= 0; k--)
        {
            entryShift[k] = acc;
            acc += Math.Max(levelBits[k], 0);
            coverShift[k] = acc;
        }
        var tables = new HashSet<(int Level, ulong Prefix)>(leaves is ICollection<Leaf> c ? c.Count : 0);
        foreach (var leaf in leaves)
        {
            int level = n - 1;
            for (int k = 0; k < n; k++)
                if (entryShift[k] < 64 && leaf.Size >= 1UL << entryShift[k]) { level = k; break; }
            for (int k = 1; k <= level; k++)
                tables.Add((k, coverShift[k] >= 64 ? 0 : leaf.Iova >> coverShift[k]));
        }
        return 1 + tables.Count;
    }
}
