using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>
/// <see cref="Count"/> consecutive page-table leaves of one size that translate linearly:
/// page k sends [Iova + k·PageSize, +PageSize) to Phys + k·PageSize with <see cref="Prot"/>.
/// The model keeps page tables and cached walks as runs so that an op costs O(log n) whatever
/// the size of the buffer; each run is exactly the leaves it stands for (<see cref="Leaves"/>),
/// which is what the exported state lists.
/// </summary>
public sealed record PageRun(ulong Iova, ulong Phys, ulong PageSize, ulong Count, Prot Prot)
{
    /// <summary>Last IOVA the run covers.</summary>
    public ulong Last => Iova + (PageSize * Count - 1);

    public AddrRange Range => new(Iova, Last);

    /// <summary>The leaf of the run that holds <paramref name="iova"/> (which must be inside).</summary>
    public Leaf LeafAt(ulong iova)
    {
        ulong k = (iova - Iova) / PageSize;
        return new Leaf(Iova + k * PageSize, Phys + k * PageSize, PageSize, Prot);
    }

    /// <summary>Pages [first, first + count) of the run as a run of their own.</summary>
    public PageRun Slice(ulong first, ulong count) => new(Iova + first * PageSize, Phys + first * PageSize, PageSize, count, Prot);

    /// <summary>Index of the page holding <paramref name="iova"/>.</summary>
    public ulong PageIndex(ulong iova) => (iova - Iova) / PageSize;

    public IEnumerable<Leaf> Leaves()
    {
        for (ulong k = 0; k < Count; k++)
            yield return new Leaf(Iova + k * PageSize, Phys + k * PageSize, PageSize, Prot);
    }

    /// <summary>Whether two runs translate the same address the same way (same offset iova → phys).</summary>
    public bool SameOffsetAs(PageRun other) => unchecked(Phys - Iova) == unchecked(other.Phys - other.Iova);

    public override string ToString() =>
        $"{Hex.Format(Iova)}->{Hex.Format(Phys)} {Count}×{Hex.Format(PageSize)} {Prot}";

    /// <summary>
    /// The leaves iommu_map creates for [iova, iova+size) → phys as runs: each page the largest
    /// supported size not above what remains to which both addresses are aligned (the greedy
    /// iommu_pgsize rule). A run ends where the remaining size drops below its page size or a
    /// larger size becomes possible, so the runs list exactly the greedy leaves; mapping stops
    /// (as the page-by-page rule does) when no size fits.
    /// </summary>
    public static List<PageRun> For(ulong pageSizes, ulong iova, ulong phys, ulong size, Prot prot)
    {
        var runs = new List<PageRun>(4);
        ulong done = 0;
        while (done < size)
        {
            ulong a = iova + done, p = phys + done, remaining = size - done;
            ulong page = PageSizeFor(pageSizes, a, p, remaining);
            if (page == 0) break;
            ulong count = remaining / page;
            for (int bit = System.Numerics.BitOperations.TrailingZeroCount(page) + 1; bit < 64; bit++)
            {
                ulong larger = 1UL << bit;
                if ((pageSizes & larger) == 0 || ((a ^ p) & (larger - 1)) != 0) continue;
                ulong toAlign = (larger - (a & (larger - 1))) & (larger - 1);
                // Aligned already but larger than what remains: it never fits later either.
                if (toAlign == 0 || toAlign > remaining || remaining - toAlign < larger) continue;
                count = Math.Min(count, toAlign / page);
            }
            runs.Add(new PageRun(a, p, page, count, prot));
            done += count * page;
        }
        return runs;
    }

    /// <summary>iommu_pgsize for one page: the largest supported size ≤ remaining to which
    /// both addresses are aligned; 0 when none.</summary>
    public static ulong PageSizeFor(ulong pageSizes, ulong iova, ulong phys, ulong remaining)
    {
        ulong candidates = pageSizes;
        // Sizes above `remaining` and above the joint alignment are out.
        ulong alignment = (iova | phys) == 0 ? ulong.MaxValue : (iova | phys) & (~(iova | phys) + 1);
        for (int bit = 63; bit >= 0; bit--)
        {
            ulong size = 1UL << bit;
            if ((candidates & size) == 0 || size > remaining || size > alignment) continue;
            return size;
        }
        return 0;
    }
}
