namespace DmaVerify.Optimized.Iova;

/// <summary>A fixed-size stack of cached PFNs of one size class (Bonwick's magazine).
/// <see cref="Next"/> links full magazines in a depot. The PFN array is allocated on the first
/// push, so the many magazines that never fill (other size classes, other CPU slots, the span
/// allocators that never cache) cost an object each, and copying them costs nothing more.</summary>
internal sealed class Magazine
{
    private ulong[]? _pfns;
    public int Size;
    public Magazine? Next;

    public bool IsFull => Size == MagazineRules.MagazineSize;
    public bool IsEmpty => Size == 0;

    public ulong this[int index] => _pfns![index];

    public void Push(ulong pfn) => (_pfns ??= new ulong[MagazineRules.MagazineSize])[Size++] = pfn;

    /// <summary>The same PFNs in the same order (<see cref="Next"/> not copied).</summary>
    public Magazine Clone()
    {
        var copy = new Magazine { Size = Size };
        if (Size > 0)
        {
            copy._pfns = new ulong[MagazineRules.MagazineSize];
            Array.Copy(_pfns!, copy._pfns, Size);
        }
        return copy;
    }

    /// <summary>Removes and returns the topmost PFN whose range of <paramref name="pages"/> ends
    /// at or below <paramref name="limitPfn"/>, filling its slot with the last entry; 0 when no
    /// entry qualifies (Linux's iova_magazine_pop scan).</summary>
    public ulong PopBelow(ulong pages, ulong limitPfn)
    {
        var pfns = _pfns;
        for (int i = Size - 1; i >= 0; i--)
        {
            ulong pfn = pfns![i];
            if (!MagazineRules.FitsLimit(pfn, pages, limitPfn)) continue;
            pfns[i] = pfns[--Size];
            return pfn;
        }
        return 0;
    }
}
