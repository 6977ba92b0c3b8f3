namespace DmaVerify.Optimized.Iova;

/// <summary>A fixed-size stack of cached PFNs of one size class (Bonwick's magazine).
/// <see cref="Next"/> links full magazines in a depot.</summary>
internal sealed class Magazine
{
    public readonly ulong[] Pfns = new ulong[MagazineRules.MagazineSize];
    public int Size;
    public Magazine? Next;

    public bool IsFull => Size == Pfns.Length;
    public bool IsEmpty => Size == 0;

    public void Push(ulong pfn) => Pfns[Size++] = pfn;

    /// <summary>Removes and returns the topmost PFN whose range of <paramref name="pages"/> ends
    /// at or below <paramref name="limitPfn"/>, filling its slot with the last entry; 0 when no
    /// entry qualifies (Linux's iova_magazine_pop scan).</summary>
    public ulong PopBelow(ulong pages, ulong limitPfn)
    {
        for (int i = Size - 1; i >= 0; i--)
        {
            ulong pfn = Pfns[i];
            if (!MagazineRules.FitsLimit(pfn, pages, limitPfn)) continue;
            Pfns[i] = Pfns[--Size];
            return pfn;
        }
        return 0;
    }
}
