using DmaVerify.Contracts;

namespace DmaVerify.Optimized.Dma;

/// <summary>
/// One device's live dma-debug entries in creation order, where a driver's handle "the n-th
/// live mapping" (<see cref="LiveRef"/>) is answered and any entry is removed in O(log n),
/// whatever the order mappings are freed in (a list pays O(n) to drop the oldest). Each entry
/// takes the next sequence slot; a Fenwick tree over the slots counts the live ones, so the
/// n-th live entry is a binary descent. When the slots run out and at most half are live they
/// are compacted (amortised O(1) per add). No allocation in steady state.
/// </summary>
internal sealed class LiveMappings
{
    private DmaMapping?[] _slots;
    private int[] _tree;              // Fenwick tree over _slots (1-based inside)
    private readonly Dictionary<DmaMapping, int> _slotOf;
    private int _used;                // slots handed out so far

    public LiveMappings(int capacity = 16)
    {
        _slots = new DmaMapping?[capacity];
        _tree = new int[capacity + 1];
        _slotOf = new Dictionary<DmaMapping, int>(ReferenceEqualityComparer.Instance);
    }

    private LiveMappings(LiveMappings source)
    {
        _slots = (DmaMapping?[])source._slots.Clone();
        _tree = (int[])source._tree.Clone();
        _slotOf = new Dictionary<DmaMapping, int>(source._slotOf, ReferenceEqualityComparer.Instance);
        _used = source._used;
    }

    /// <summary>An independent copy (the entries themselves never change).</summary>
    public LiveMappings Clone() => new(this);

    public int Count => _slotOf.Count;

    public void Add(DmaMapping mapping)
    {
        if (_used == _slots.Length) Grow();
        int slot = _used++;
        _slots[slot] = mapping;
        _slotOf[mapping] = slot;
        Bump(slot, +1);
    }

    public bool Remove(DmaMapping mapping)
    {
        if (!_slotOf.Remove(mapping, out int slot)) return false;
        _slots[slot] = null;
        Bump(slot, -1);
        return true;
    }

    /// <summary>The <paramref name="index"/>-th live entry (0-based, creation order).</summary>
    public DmaMapping this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
            // Fenwick descent: the smallest prefix holding index + 1 live entries.
            int pos = 0, remaining = index + 1;
            for (int step = HighestPowerOfTwo(_slots.Length); step > 0; step >>= 1)
            {
                int next = pos + step;
                if (next <= _slots.Length && _tree[next] < remaining)
                {
                    pos = next;
                    remaining -= _tree[next];
                }
            }
            return _slots[pos]!;
        }
    }

    /// <summary>The live entries in creation order.</summary>
    public IEnumerable<DmaMapping> InOrder()
    {
        for (int i = 0; i < _used; i++)
            if (_slots[i] is DmaMapping m) yield return m;
    }

    private void Bump(int slot, int delta)
    {
        for (int i = slot + 1; i < _tree.Length; i += i & -i) _tree[i] += delta;
    }

    /// <summary>Out of slots: compact the live entries to the front when at most half are live,
    /// else double; the Fenwick tree is rebuilt in O(slots).</summary>
    private void Grow()
    {
        // Compacting in place keeps the arrays (no allocation in steady state); only a set that
        // is more than half live doubles them.
        var target = Count * 2 <= _slots.Length ? _slots : new DmaMapping?[_slots.Length * 2];
        int n = 0;
        for (int i = 0; i < _used; i++)
            if (_slots[i] is DmaMapping m) { target[n] = m; _slotOf[m] = n; n++; }
        Array.Clear(target, n, target.Length - n);
        _slots = target;
        _used = n;
        if (_tree.Length != target.Length + 1) _tree = new int[target.Length + 1];
        else Array.Clear(_tree);
        for (int i = 1; i <= target.Length; i++)
        {
            _tree[i] += target[i - 1] is null ? 0 : 1;
            int parent = i + (i & -i);
            if (parent <= target.Length) _tree[parent] += _tree[i];
        }
    }

    private static int HighestPowerOfTwo(int v)
    {
        int p = 1;
        while (p <= v >> 1) p <<= 1;
        return p;
    }
}
