namespace DmaVerify.Optimized.Iova;

/// <summary>
/// The gap annotation of <see cref="AugmentedIovaAllocator"/>'s tree: every node carries the
/// free gap just below it (plain size and <see cref="IovaFit.FitCapacity"/>), and the largest of
/// each over its subtree, so a descent can tell whether a subtree holds a fitting hole.
/// </summary>
internal readonly struct GapAugment : INodeAugment
{
    public static bool Recompute(IovaNode n)
    {
        ulong gap = n.GapSize, cap = n.GapCap;
        if (n.Left is { } l)
        {
            if (l.SubGap > gap) gap = l.SubGap;
            if (l.SubCap > cap) cap = l.SubCap;
        }
        if (n.Right is { } r)
        {
            if (r.SubGap > gap) gap = r.SubGap;
            if (r.SubCap > cap) cap = r.SubCap;
        }
        if (n.SubGap == gap && n.SubCap == cap) return false;
        n.SubGap = gap;
        n.SubCap = cap;
        return true;
    }

    /// <summary>The free gap just below <paramref name="n"/> given its in-order predecessor:
    /// [max(start, pred.Hi + 1), n.Lo − 1], or empty.</summary>
    public static void Gap(IovaNode n, IovaNode? pred, ulong startPfn, out ulong lo, out ulong hi, out bool empty)
    {
        lo = pred is null || pred.Hi < startPfn ? startPfn : pred.Hi + 1;
        hi = n.Lo == 0 ? 0 : n.Lo - 1;
        empty = n.Lo == 0 || hi < lo;
    }

    /// <summary>Sets <paramref name="n"/>'s own gap fields from its current predecessor and
    /// recomputes the annotation upward while it changes. O(log n), usually O(1).</summary>
    public static void Refresh(IovaNode n, ulong startPfn)
    {
        Gap(n, RbTree<GapAugment>.Prev(n), startPfn, out ulong lo, out ulong hi, out bool empty);
        n.GapSize = empty ? 0 : IovaFit.GapSize(lo, hi);
        n.GapCap = empty ? 0 : IovaFit.FitCapacity(lo, hi);
        RbTree<GapAugment>.PropagateUpUntilStable(n); // only n's own gap changed
    }

    /// <summary>Sets <paramref name="n"/>'s own gap to [lo, hi] (empty when hi &lt; lo), known
    /// without a walk to its predecessor, and recomputes upward while the annotation changes.</summary>
    public static void SetGap(IovaNode n, ulong lo, ulong hi)
    {
        bool empty = hi < lo;
        n.GapSize = empty ? 0 : IovaFit.GapSize(lo, hi);
        n.GapCap = empty ? 0 : IovaFit.FitCapacity(lo, hi);
        RbTree<GapAugment>.PropagateUpUntilStable(n);
    }

    /// <summary>Recomputes every annotation from scratch and compares (tests): O(n).</summary>
    public static string? Verify(RbTree<GapAugment> tree, ulong startPfn)
    {
        IovaNode? pred = null;
        for (var n = tree.First(); n is not null; pred = n, n = RbTree<GapAugment>.Next(n))
        {
            Gap(n, pred, startPfn, out ulong lo, out ulong hi, out bool empty);
            ulong size = empty ? 0 : IovaFit.GapSize(lo, hi);
            ulong cap = empty ? 0 : IovaFit.FitCapacity(lo, hi);
            if (n.GapSize != size || n.GapCap != cap)
                return $"{n}: gap {n.GapSize:X}/{n.GapCap:X}, expected {size:X}/{cap:X}";
        }
        return tree.Root is null ? null : VerifySub(tree.Root, out _, out _);
    }

    private static string? VerifySub(IovaNode n, out ulong gap, out ulong cap)
    {
        gap = n.GapSize;
        cap = n.GapCap;
        if (n.Left is not null)
        {
            var e = VerifySub(n.Left, out ulong g, out ulong c);
            if (e is not null) return e;
            gap = Math.Max(gap, g); cap = Math.Max(cap, c);
        }
        if (n.Right is not null)
        {
            var e = VerifySub(n.Right, out ulong g, out ulong c);
            if (e is not null) return e;
            gap = Math.Max(gap, g); cap = Math.Max(cap, c);
        }
        return n.SubGap == gap && n.SubCap == cap ? null
            : $"{n}: subtree max {n.SubGap:X}/{n.SubCap:X}, expected {gap:X}/{cap:X}";
    }
}
