namespace DmaVerify.Optimized.Iova;

/// <summary>Recomputes a node's subtree annotation from its own fields and its children's.
/// Called after every structural change below the node (rotations, links, unlinks).</summary>
internal interface INodeAugment
{
    /// <summary>Returns whether the node's annotation changed.</summary>
    static abstract bool Recompute(IovaNode node);
}

/// <summary>No annotation (LinuxStyle).</summary>
internal readonly struct NoAugment : INodeAugment
{
    public static bool Recompute(IovaNode node) => false;
}

/// <summary>
/// A red-black tree of disjoint <see cref="IovaNode"/> ranges ordered by Lo, with parent links
/// (for predecessor/successor walks) and an annotation hook: after a rotation the two rotated
/// nodes are recomputed (their subtree's contents are unchanged, so ancestors stay correct), and
/// after a link or unlink the path to the root is recomputed. Not thread-safe; callers lock.
/// </summary>
internal sealed class RbTree<TAug> where TAug : INodeAugment
{
    public IovaNode? Root { get; private set; }
    public int Count { get; private set; }

    // ---- navigation ----

    public static IovaNode Min(IovaNode n) { while (n.Left is not null) n = n.Left; return n; }
    public static IovaNode Max(IovaNode n) { while (n.Right is not null) n = n.Right; return n; }
    public IovaNode? First() => Root is null ? null : Min(Root);
    public IovaNode? Last() => Root is null ? null : Max(Root);

    public static IovaNode? Next(IovaNode n)
    {
        if (n.Right is not null) return Min(n.Right);
        var p = n.Parent;
        while (p is not null && n == p.Right) { n = p; p = p.Parent; }
        return p;
    }

    public static IovaNode? Prev(IovaNode n)
    {
        if (n.Left is not null) return Max(n.Left);
        var p = n.Parent;
        while (p is not null && n == p.Left) { n = p; p = p.Parent; }
        return p;
    }

    /// <summary>The node whose [Lo, Hi] contains <paramref name="pfn"/>, or null.</summary>
    public IovaNode? FindContaining(ulong pfn)
    {
        var n = Root;
        while (n is not null)
        {
            if (pfn < n.Lo) n = n.Left;
            else if (pfn > n.Hi) n = n.Right;
            else return n;
        }
        return null;
    }

    /// <summary>The lowest node with Lo ≥ <paramref name="key"/>, or null.</summary>
    public IovaNode? LowerBound(ulong key)
    {
        IovaNode? best = null;
        var n = Root;
        while (n is not null)
        {
            if (n.Lo >= key) { best = n; n = n.Left; }
            else n = n.Right;
        }
        return best;
    }

    /// <summary>The lowest node with Hi ≥ <paramref name="pfn"/> (the first node at or above pfn), or null.</summary>
    public IovaNode? FirstEndingAtOrAbove(ulong pfn)
    {
        IovaNode? best = null;
        var n = Root;
        while (n is not null)
        {
            if (n.Hi >= pfn) { best = n; n = n.Left; }
            else n = n.Right;
        }
        return best;
    }

    // ---- annotation ----

    public static void PropagateUp(IovaNode? n)
    {
        while (n is not null) { TAug.Recompute(n); n = n.Parent; }
    }

    /// <summary>Recomputes from <paramref name="n"/> upward and stops at the first ancestor whose
    /// annotation did not change (its ancestors' inputs did not change either). Valid only when
    /// every change since the annotations were last right lies inside <paramref name="n"/>'s
    /// subtree (a node's own fields, a leaf linked below it), as rb_augment's propagate assumes.</summary>
    public static void PropagateUpUntilStable(IovaNode? n)
    {
        if (n is null) return;
        TAug.Recompute(n);
        for (var p = n.Parent; p is not null; p = p.Parent)
            if (!TAug.Recompute(p)) return;
    }

    // ---- insertion ----

    /// <summary>Links <paramref name="node"/> by its Lo, descending from <paramref name="hint"/>
    /// (Linux's iova_insert_rbtree start node) or from the root. A hint is valid when the new key
    /// belongs in the hint's subtree, e.g. the in-order neighbour just above the new range.
    /// Returns false (and links nothing) when the key is already present.</summary>
    public bool Insert(IovaNode node, IovaNode? hint = null)
    {
        IovaNode? parent = null;
        bool left = false;
        var n = hint ?? Root;
        while (n is not null)
        {
            parent = n;
            if (node.Lo < n.Lo) { left = true; n = n.Left; }
            else if (node.Lo > n.Lo) { left = false; n = n.Right; }
            else return false;
        }
        node.Left = node.Right = null;
        node.Parent = parent;
        node.Red = true;
        if (parent is null) Root = node;
        else if (left) parent.Left = node;
        else parent.Right = node;
        Count++;
        PropagateUpUntilStable(node);
        InsertFixup(node);
        return true;
    }

    private void InsertFixup(IovaNode z)
    {
        while (z.Parent is { Red: true } p)
        {
            var g = p.Parent!; // a red node is never the root
            if (p == g.Left)
            {
                var u = g.Right;
                if (u is { Red: true })
                {
                    p.Red = false; u.Red = false; g.Red = true; z = g;
                }
                else
                {
                    if (z == p.Right) { z = p; RotateLeft(z); p = z.Parent!; }
                    p.Red = false; g.Red = true; RotateRight(g);
                }
            }
            else
            {
                var u = g.Left;
                if (u is { Red: true })
                {
                    p.Red = false; u.Red = false; g.Red = true; z = g;
                }
                else
                {
                    if (z == p.Left) { z = p; RotateRight(z); p = z.Parent!; }
                    p.Red = false; g.Red = true; RotateLeft(g);
                }
            }
        }
        Root!.Red = false;
    }

    // ---- deletion ----

    public void Remove(IovaNode z)
    {
        IovaNode? child;
        IovaNode? parent;
        IovaNode? moved = null;
        bool removedBlack;
        if (z.Left is null || z.Right is null)
        {
            child = z.Left ?? z.Right;
            parent = z.Parent;
            removedBlack = !z.Red;
            Replace(z, child);
        }
        else
        {
            var y = Min(z.Right);
            moved = y;
            removedBlack = !y.Red;
            child = y.Right;
            if (y.Parent == z)
            {
                parent = y;
            }
            else
            {
                parent = y.Parent!;
                parent.Left = child;
                if (child is not null) child.Parent = parent;
                y.Right = z.Right;
                y.Right.Parent = y;
            }
            Replace(z, y);
            y.Left = z.Left;
            y.Left.Parent = y;
            y.Red = z.Red;
        }
        z.Left = z.Right = z.Parent = null;
        Count--;
        // Below the node that took z's place every subtree on the path changed; above it only
        // the contents did, so recomputation may stop where an annotation comes out the same.
        if (moved is not null)
        {
            for (var n = parent; n is not null && n != moved; n = n.Parent) TAug.Recompute(n);
            PropagateUpUntilStable(moved);
        }
        else PropagateUpUntilStable(parent);
        if (removedBlack) DeleteFixup(child, parent);
    }

    private void DeleteFixup(IovaNode? x, IovaNode? parent)
    {
        while (x != Root && (x is null || !x.Red))
        {
            var p = parent!;
            if (x == p.Left)
            {
                var w = p.Right!; // the sibling of a doubly-black node exists
                if (w.Red)
                {
                    w.Red = false; p.Red = true; RotateLeft(p); w = p.Right!;
                }
                if (!IsRed(w.Left) && !IsRed(w.Right))
                {
                    w.Red = true; x = p; parent = p.Parent;
                }
                else
                {
                    if (!IsRed(w.Right))
                    {
                        w.Left!.Red = false; w.Red = true; RotateRight(w); w = p.Right!;
                    }
                    w.Red = p.Red; p.Red = false; w.Right!.Red = false; RotateLeft(p);
                    x = Root; parent = null;
                }
            }
            else
            {
                var w = p.Left!;
                if (w.Red)
                {
                    w.Red = false; p.Red = true; RotateRight(p); w = p.Left!;
                }
                if (!IsRed(w.Left) && !IsRed(w.Right))
                {
                    w.Red = true; x = p; parent = p.Parent;
                }
                else
                {
                    if (!IsRed(w.Left))
                    {
                        w.Right!.Red = false; w.Red = true; RotateLeft(w); w = p.Left!;
                    }
                    w.Red = p.Red; p.Red = false; w.Left!.Red = false; RotateRight(p);
                    x = Root; parent = null;
                }
            }
        }
        if (x is not null) x.Red = false;
    }

    private static bool IsRed(IovaNode? n) => n is { Red: true };

    private void Replace(IovaNode old, IovaNode? with)
    {
        var p = old.Parent;
        if (p is null) Root = with;
        else if (p.Left == old) p.Left = with;
        else p.Right = with;
        if (with is not null) with.Parent = p;
    }

    private void RotateLeft(IovaNode x)
    {
        var y = x.Right!;
        x.Right = y.Left;
        if (y.Left is not null) y.Left.Parent = x;
        Replace(x, y);
        y.Left = x;
        x.Parent = y;
        TAug.Recompute(x);
        TAug.Recompute(y);
    }

    private void RotateRight(IovaNode x)
    {
        var y = x.Left!;
        x.Left = y.Right;
        if (y.Right is not null) y.Right.Parent = x;
        Replace(x, y);
        y.Right = x;
        x.Parent = y;
        TAug.Recompute(x);
        TAug.Recompute(y);
    }

    // ---- copying ----

    /// <summary>A node-for-node copy (colours, annotations and shape kept, so the copy behaves
    /// exactly like the original from here on). O(n).</summary>
    public RbTree<TAug> Clone()
    {
        var copy = new RbTree<TAug> { Count = Count };
        copy.Root = CopySubtree(Root, null);
        return copy;
    }

    private static IovaNode? CopySubtree(IovaNode? n, IovaNode? parent)
    {
        if (n is null) return null;
        var c = new IovaNode(n.Lo, n.Hi, n.Reserved)
        {
            Red = n.Red, Parent = parent, GapSize = n.GapSize, GapCap = n.GapCap, SubGap = n.SubGap, SubCap = n.SubCap,
        };
        c.Left = CopySubtree(n.Left, c);
        c.Right = CopySubtree(n.Right, c);
        return c;
    }

    // ---- checking (tests) ----

    /// <summary>Checks the red-black, ordering and parent-link properties; returns the first
    /// problem found, or null. O(n); for tests.</summary>
    public string? Validate()
    {
        if (Root is null) return Count == 0 ? null : $"empty tree with count {Count}";
        if (Root.Red) return "red root";
        if (Root.Parent is not null) return "root has a parent";
        int seen = 0;
        string? error = null;
        BlackHeight(Root, ref seen, ref error);
        if (error is not null) return error;
        if (seen != Count) return $"count {Count} but {seen} nodes";
        IovaNode? prev = null;
        for (var n = First(); n is not null; n = Next(n))
        {
            if (n.Hi < n.Lo) return $"inverted node {n}";
            if (prev is not null && prev.Hi >= n.Lo) return $"{prev} and {n} overlap or are out of order";
            prev = n;
        }
        return null;
    }

    private static int BlackHeight(IovaNode? n, ref int seen, ref string? error)
    {
        if (n is null || error is not null) return 1;
        seen++;
        if (n.Left is not null && n.Left.Parent != n) error ??= $"bad parent link under {n}";
        if (n.Right is not null && n.Right.Parent != n) error ??= $"bad parent link under {n}";
        if (n.Red && (IsRed(n.Left) || IsRed(n.Right))) error ??= $"red node {n} has a red child";
        int l = BlackHeight(n.Left, ref seen, ref error);
        int r = BlackHeight(n.Right, ref seen, ref error);
        if (l != r) error ??= $"black heights differ under {n}";
        return l + (n.Red ? 0 : 1);
    }
}
