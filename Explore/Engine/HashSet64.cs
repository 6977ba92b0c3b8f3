namespace DmaVerify.Explore;

/// <summary>A set of 64-bit state hashes: open addressing, 8 bytes a slot, half full at most
/// (a <see cref="HashSet{T}"/> of ulong costs three times the memory for millions of states).</summary>
internal sealed class HashSet64
{
    private ulong[] _slots = new ulong[1 << 16];
    private bool _hasZero;

    public long Count { get; private set; }

    public long MemoryBytes => (long)_slots.Length * sizeof(ulong);

    /// <summary>True when <paramref name="hash"/> was not in the set.</summary>
    public bool Add(ulong hash)
    {
        if (hash == 0)
        {
            if (_hasZero) return false;
            _hasZero = true;
            Count++;
            return true;
        }
        if ((Count + 1) * 2 > _slots.Length) Grow();
        if (!Insert(_slots, hash)) return false;
        Count++;
        return true;
    }

    public bool Contains(ulong hash)
    {
        if (hash == 0) return _hasZero;
        int mask = _slots.Length - 1;
        for (int i = (int)(Mix(hash) & (ulong)mask); ; i = (i + 1) & mask)
        {
            if (_slots[i] == hash) return true;
            if (_slots[i] == 0) return false;
        }
    }

    private static bool Insert(ulong[] slots, ulong hash)
    {
        int mask = slots.Length - 1;
        for (int i = (int)(Mix(hash) & (ulong)mask); ; i = (i + 1) & mask)
        {
            if (slots[i] == hash) return false;
            if (slots[i] == 0)
            {
                slots[i] = hash;
                return true;
            }
        }
    }

    private void Grow()
    {
        var bigger = new ulong[_slots.Length * 2];
        foreach (ulong h in _slots)
            if (h != 0) Insert(bigger, h);
        _slots = bigger;
    }

    /// <summary>The slot index comes from the high bits, so hashes that differ only low still spread.</summary>
    private static ulong Mix(ulong h) => (h * 0x9E37_79B9_7F4A_7C15) >> 20;
}
