using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>
/// A persistent (immutable) AVL tree of closed intervals [Start, Last] keyed by a unique
/// <c>Start</c>, each carrying a value. Every change returns a new tree that shares all untouched
/// nodes with the old one, so keeping an old root is an O(1) snapshot and two roots can be
/// compared by walking only the nodes they do not share.
/// <para>Each node also knows, for its subtree: the number of intervals (rank and select), the
/// highest Last (overlap queries when intervals overlap, as cached walks may), the first Start
/// and the Last of the interval with the greatest Start, and the largest gap between two
/// consecutive intervals (free-space search when intervals are disjoint, as IOVA allocations
/// are). Lookups, inserts and removals are O(log n); a free-gap search is O(log n) per gap it
/// has to look at.</para>
/// </summary>
public sealed class IntervalTree<T>
{
    public static readonly IntervalTree<T> Empty = new(null);

    private readonly Node? _root;

    private IntervalTree(Node? root) => _root = root;

    public int Count => _root?.Count ?? 0;
    public bool IsEmpty => _root is null;

    /// <summary>Whether two trees are the very same version (no change between them).</summary>
    public bool SameAs(IntervalTree<T> other) => ReferenceEquals(_root, other._root);

    public readonly record struct Entry(ulong Start, ulong Last, T Value)
    {
        public AddrRange Range => new(Start, Last);
    }

    private sealed class Node
    {
        public readonly ulong Start, Last;
        public readonly T Value;
        public readonly Node? Left, Right;
        public readonly int Height, Count;
        public readonly ulong MaxLast, FirstStart, LastOfRightmost;
        /// <summary>Largest gap (free addresses) between consecutive intervals of the subtree;
        /// 0 when none (or when intervals touch or overlap).</summary>
        public readonly ulong MaxGap;

        public Node(ulong start, ulong last, T value, Node? left, Node? right)
        {
            Start = start;
            Last = last;
            Value = value;
            Left = left;
            Right = right;
            Height = 1 + Math.Max(left?.Height ?? 0, right?.Height ?? 0);
            Count = 1 + (left?.Count ?? 0) + (right?.Count ?? 0);
            MaxLast = Math.Max(last, Math.Max(left?.MaxLast ?? 0, right?.MaxLast ?? 0));
            FirstStart = left?.FirstStart ?? start;
            LastOfRightmost = right?.LastOfRightmost ?? last;
            ulong gap = Math.Max(left?.MaxGap ?? 0, right?.MaxGap ?? 0);
            if (left is not null) gap = Math.Max(gap, GapBetween(left.LastOfRightmost, start));
            if (right is not null) gap = Math.Max(gap, GapBetween(last, right.FirstStart));
            MaxGap = gap;
        }

        public Node With(Node? left, Node? right) =>
            ReferenceEquals(left, Left) && ReferenceEquals(right, Right) ? this : new Node(Start, Last, Value, left, right);

        public Entry Entry => new(Start, Last, Value);
    }

    /// <summary>Free addresses strictly between an interval ending at <paramref name="last"/> and
    /// the next one starting at <paramref name="nextStart"/> (0 when they touch or overlap).</summary>
    private static ulong GapBetween(ulong last, ulong nextStart) => nextStart > last ? nextStart - last - 1 : 0;

    // ----- updates -----

    /// <summary>Adds an interval; <paramref name="start"/> must not be a key already.</summary>
    public IntervalTree<T> Add(ulong start, ulong last, T value)
    {
        if (last < start) throw new ArgumentException($"interval last {Hex.Format(last)} is below start {Hex.Format(start)}");
        return new IntervalTree<T>(Insert(_root, start, last, value));
    }

    public IntervalTree<T> Add(AddrRange range, T value) => Add(range.Start, range.Last, value);

    /// <summary>Replaces the interval keyed <paramref name="start"/>, or adds it.</summary>
    public IntervalTree<T> Set(ulong start, ulong last, T value) =>
        new(Insert(Delete(_root, start, out _), start, last, value));

    /// <summary>Removes the interval keyed <paramref name="start"/>; the same tree when absent.</summary>
    public IntervalTree<T> Remove(ulong start)
    {
        var root = Delete(_root, start, out bool found);
        return found ? new IntervalTree<T>(root) : this;
    }

    private static Node Insert(Node? node, ulong start, ulong last, T value)
    {
        if (node is null) return new Node(start, last, value, null, null);
        if (start < node.Start) return Balance(node.With(Insert(node.Left, start, last, value), node.Right));
        if (start > node.Start) return Balance(node.With(node.Left, Insert(node.Right, start, last, value)));
        throw new ArgumentException($"an interval already starts at {Hex.Format(start)}");
    }

    private static Node? Delete(Node? node, ulong start, out bool found)
    {
        found = false;
        if (node is null) return null;
        if (start < node.Start) return Rebalanced(node, Delete(node.Left, start, out found), node.Right, found);
        if (start > node.Start) return Rebalanced(node, node.Left, Delete(node.Right, start, out found), found);
        found = true;
        if (node.Left is null) return node.Right;
        if (node.Right is null) return node.Left;
        var successor = Min(node.Right);
        var right = Delete(node.Right, successor.Start, out _);
        return Balance(new Node(successor.Start, successor.Last, successor.Value, node.Left, right));
    }

    private static Node? Rebalanced(Node node, Node? left, Node? right, bool changed) =>
        changed ? Balance(node.With(left, right)) : node;

    private static Node Min(Node node)
    {
        while (node.Left is not null) node = node.Left;
        return node;
    }

    private static int HeightOf(Node? n) => n?.Height ?? 0;

    private static Node Balance(Node n)
    {
        int factor = HeightOf(n.Left) - HeightOf(n.Right);
        if (factor > 1)
        {
            var left = n.Left!;
            if (HeightOf(left.Left) < HeightOf(left.Right)) left = RotateLeft(left);
            return RotateRight(n.With(left, n.Right));
        }
        if (factor < -1)
        {
            var right = n.Right!;
            if (HeightOf(right.Right) < HeightOf(right.Left)) right = RotateRight(right);
            return RotateLeft(n.With(n.Left, right));
        }
        return n;
    }

    private static Node RotateRight(Node n)
    {
        var l = n.Left!;
        return l.With(l.Left, n.With(l.Right, n.Right));
    }

    private static Node RotateLeft(Node n)
    {
        var r = n.Right!;
        return r.With(n.With(n.Left, r.Left), r.Right);
    }

    // ----- lookups -----

    public bool TryGet(ulong start, out Entry entry)
    {
        var n = _root;
        while (n is not null)
        {
            if (start < n.Start) n = n.Left;
            else if (start > n.Start) n = n.Right;
            else
            {
                entry = n.Entry;
                return true;
            }
        }
        entry = default;
        return false;
    }

    /// <summary>The interval with the greatest Start ≤ <paramref name="address"/>.</summary>
    public bool TryFloor(ulong address, out Entry entry)
    {
        Node? best = null;
        var n = _root;
        while (n is not null)
        {
            if (n.Start <= address)
            {
                best = n;
                n = n.Right;
            }
            else n = n.Left;
        }
        entry = best?.Entry ?? default;
        return best is not null;
    }

    /// <summary>The interval with the least Start ≥ <paramref name="address"/>.</summary>
    public bool TryCeiling(ulong address, out Entry entry)
    {
        Node? best = null;
        var n = _root;
        while (n is not null)
        {
            if (n.Start >= address)
            {
                best = n;
                n = n.Left;
            }
            else n = n.Right;
        }
        entry = best?.Entry ?? default;
        return best is not null;
    }

    /// <summary>The interval with the greatest Start.</summary>
    public bool TryMax(out Entry entry)
    {
        var n = _root;
        while (n?.Right is not null) n = n.Right;
        entry = n?.Entry ?? default;
        return n is not null;
    }

    /// <summary>Replaces the value (and last) of the interval keyed <paramref name="start"/>,
    /// which must exist; the shape of the tree is unchanged.</summary>
    public IntervalTree<T> Replace(ulong start, ulong last, T value)
    {
        if (last < start) throw new ArgumentException($"interval last {Hex.Format(last)} is below start {Hex.Format(start)}");
        return new IntervalTree<T>(ReplaceIn(_root, start, last, value));
    }

    private static Node ReplaceIn(Node? n, ulong start, ulong last, T value)
    {
        if (n is null) throw new KeyNotFoundException($"no interval starts at {Hex.Format(start)}");
        if (start < n.Start) return n.With(ReplaceIn(n.Left, start, last, value), n.Right);
        if (start > n.Start) return n.With(n.Left, ReplaceIn(n.Right, start, last, value));
        return new Node(start, last, value, n.Left, n.Right);
    }

    /// <summary>The interval containing <paramref name="address"/> when intervals are disjoint
    /// (the floor entry, if it reaches the address).</summary>
    public bool TryFindContaining(ulong address, out Entry entry) =>
        TryFloor(address, out entry) && entry.Last >= address;

    /// <summary>Whether any interval overlaps [start, last] (intervals may overlap each other).</summary>
    public bool AnyOverlapping(ulong start, ulong last) => FirstOverlapping(start, last, out _);

    /// <summary>The overlapping interval with the least Start.</summary>
    public bool FirstOverlapping(ulong start, ulong last, out Entry entry)
    {
        var found = FirstOverlapping(_root, start, last);
        entry = found?.Entry ?? default;
        return found is not null;
    }

    private static Node? FirstOverlapping(Node? n, ulong start, ulong last)
    {
        while (n is not null)
        {
            if (n.MaxLast < start) return null;
            if (n.Left is not null && n.Left.MaxLast >= start)
            {
                var inLeft = FirstOverlapping(n.Left, start, last);
                if (inLeft is not null) return inLeft;
            }
            if (n.Start > last) return null;
            if (n.Last >= start) return n;
            n = n.Right;
        }
        return null;
    }

    /// <summary>Every interval overlapping [start, last], in Start order.</summary>
    public List<Entry> Overlapping(ulong start, ulong last)
    {
        var result = new List<Entry>();
        CollectOverlapping(_root, start, last, result);
        return result;
    }

    public List<Entry> Overlapping(AddrRange range) => Overlapping(range.Start, range.Last);

    private static void CollectOverlapping(Node? n, ulong start, ulong last, List<Entry> output)
    {
        if (n is null || n.MaxLast < start) return;
        CollectOverlapping(n.Left, start, last, output);
        if (n.Start > last) return;
        if (n.Last >= start) output.Add(n.Entry);
        CollectOverlapping(n.Right, start, last, output);
    }

    /// <summary>The interval of rank <paramref name="index"/> (0 = least Start).</summary>
    public bool TryElementAt(int index, out Entry entry)
    {
        entry = default;
        if (index < 0 || index >= Count) return false;
        var n = _root;
        while (n is not null)
        {
            int left = n.Left?.Count ?? 0;
            if (index < left) n = n.Left;
            else if (index > left)
            {
                index -= left + 1;
                n = n.Right;
            }
            else
            {
                entry = n.Entry;
                return true;
            }
        }
        return false;
    }

    /// <summary>How many intervals start below <paramref name="start"/>.</summary>
    public int RankOf(ulong start)
    {
        int rank = 0;
        var n = _root;
        while (n is not null)
        {
            if (start <= n.Start) n = n.Left;
            else
            {
                rank += 1 + (n.Left?.Count ?? 0);
                n = n.Right;
            }
        }
        return rank;
    }

    public IEnumerable<Entry> InOrder()
    {
        if (_root is null) yield break;
        var stack = new Stack<Node>();
        var n = _root;
        while (stack.Count > 0 || n is not null)
        {
            while (n is not null)
            {
                stack.Push(n);
                n = n.Left;
            }
            n = stack.Pop();
            yield return n.Entry;
            n = n.Right;
        }
    }

    // ----- free space (for disjoint intervals) -----

    /// <summary>
    /// Visits the free gaps of [<paramref name="lo"/>, <paramref name="hi"/>] (addresses covered by
    /// no interval) that hold at least <paramref name="minSize"/> addresses, highest first, and
    /// returns the first non-null answer of <paramref name="fit"/>. Subtrees whose gaps are all
    /// smaller are skipped whole, so the cost is O(log n) per gap looked at. Intervals must be
    /// disjoint.
    /// </summary>
    public AddrRange? HighestFit(ulong lo, ulong hi, UInt128 minSize, Func<AddrRange, AddrRange?> fit)
    {
        if (hi < lo) return null;
        var search = new GapSearch(lo, hi, minSize, fit) { Cursor = (UInt128)hi + 1 };
        if (!search.Descend(_root)) search.Offer(lo, search.Cursor - 1);
        return search.Found;
    }

    /// <summary>As <see cref="HighestFit"/>, lowest gap first.</summary>
    public AddrRange? LowestFit(ulong lo, ulong hi, UInt128 minSize, Func<AddrRange, AddrRange?> fit)
    {
        if (hi < lo) return null;
        var search = new GapSearch(lo, hi, minSize, fit) { Cursor = lo };
        if (!search.Ascend(_root)) search.Offer(search.Cursor, hi);
        return search.Found;
    }

    private sealed class GapSearch(ulong lo, ulong hi, UInt128 minSize, Func<AddrRange, AddrRange?> fit)
    {
        /// <summary>Descending: the first address above the free space still to visit (the start
        /// of the last block visited). Ascending: the first address not yet visited.</summary>
        public UInt128 Cursor;
        public AddrRange? Found;

        /// <summary>Offers the free range [from, to] clipped to [lo, hi]; true when done.</summary>
        public bool Offer(UInt128 from, UInt128 to)
        {
            if (from < lo) from = lo;
            if (to > hi) to = hi;
            if (to < from || to - from + 1 < minSize) return false;
            Found = fit(new AddrRange((ulong)from, (ulong)to));
            return Found is not null;
        }

        /// <summary>Visits the blocks of a subtree from the highest; true when done.</summary>
        public bool Descend(Node? n)
        {
            if (n is null) return false;
            if (Cursor <= lo) return true;
            if (n.MaxGap < minSize || n.FirstStart > hi)
                return Block(n.FirstStart, n.MaxLast);
            if (Descend(n.Right)) return true;
            if (Block(n.Start, n.Last)) return true;
            return Descend(n.Left);
        }

        private bool Block(ulong start, ulong last)
        {
            if ((UInt128)last + 1 < Cursor && Offer((UInt128)last + 1, Cursor - 1)) return true;
            if (start < Cursor) Cursor = start;
            return Cursor <= lo;
        }

        /// <summary>Visits the blocks of a subtree from the lowest; true when done.</summary>
        public bool Ascend(Node? n)
        {
            if (n is null) return false;
            if (Cursor > hi) return true;
            if (n.MaxGap < minSize || n.MaxLast < lo)
                return BlockUp(n.FirstStart, n.MaxLast);
            if (Ascend(n.Left)) return true;
            if (BlockUp(n.Start, n.Last)) return true;
            return Ascend(n.Right);
        }

        private bool BlockUp(ulong start, ulong last)
        {
            if (start > Cursor && Offer(Cursor, (UInt128)start - 1)) return true;
            if ((UInt128)last + 1 > Cursor) Cursor = (UInt128)last + 1;
            return Cursor > hi;
        }
    }

    // ----- comparing versions -----

    /// <summary>
    /// The entries only one of two versions has (by key, last and value), visiting only the
    /// nodes the two do not share: O(changes · log² n) for versions derived from one another.
    /// A node object found in both trees is a whole shared subtree and is skipped.
    /// </summary>
    public static (List<Entry> OnlyInA, List<Entry> OnlyInB) Difference(IntervalTree<T> a, IntervalTree<T> b, IEqualityComparer<T>? comparer = null)
    {
        comparer ??= EqualityComparer<T>.Default;
        var onlyA = new List<Entry>();
        var onlyB = new List<Entry>();
        if (ReferenceEquals(a._root, b._root)) return (onlyA, onlyB);
        var unsharedA = Unshared(a._root, b._root);
        var unsharedB = Unshared(b._root, a._root);
        // A key held by an unshared node of one tree is either held by an unshared node of the
        // other (compare them) or by none at all: a shared node would put the key twice in a tree.
        var byKeyB = new Dictionary<ulong, Entry>(unsharedB.Count);
        foreach (var e in unsharedB) byKeyB[e.Start] = e;
        foreach (var e in unsharedA)
        {
            if (byKeyB.Remove(e.Start, out var other))
            {
                if (other.Last == e.Last && comparer.Equals(other.Value, e.Value)) continue;
                onlyB.Add(other);
            }
            onlyA.Add(e);
        }
        onlyB.AddRange(byKeyB.Values);
        onlyA.Sort((x, y) => x.Start.CompareTo(y.Start));
        onlyB.Sort((x, y) => x.Start.CompareTo(y.Start));
        return (onlyA, onlyB);
    }

    /// <summary>Entries of <paramref name="root"/>'s nodes that are not node objects of <paramref name="other"/>.</summary>
    private static List<Entry> Unshared(Node? root, Node? other)
    {
        var result = new List<Entry>();
        if (root is null) return result;
        var stack = new Stack<Node>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            if (IsIn(other, n)) continue;
            result.Add(n.Entry);
            if (n.Left is not null) stack.Push(n.Left);
            if (n.Right is not null) stack.Push(n.Right);
        }
        return result;
    }

    /// <summary>Whether the node object <paramref name="target"/> is part of the tree rooted at
    /// <paramref name="root"/> (following the search path for its key).</summary>
    private static bool IsIn(Node? root, Node target)
    {
        var n = root;
        while (n is not null)
        {
            if (ReferenceEquals(n, target)) return true;
            if (target.Start < n.Start) n = n.Left;
            else if (target.Start > n.Start) n = n.Right;
            else return false;
        }
        return false;
    }
}
