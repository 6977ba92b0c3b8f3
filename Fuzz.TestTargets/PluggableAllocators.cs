using DmaVerify.Optimized.Iova;

namespace DmaVerify.Fuzz.TestTargets;

/// <summary>.NET allocators for <c>--allocator PATH.dll:Namespace.Type</c> tests: a correct one
/// and planted bugs, each over the augmented tree.</summary>
public class WrappedAugmented(ulong startPfn, int granuleShift) : IIovaAllocator
{
    protected readonly AugmentedIovaAllocator Inner = new(startPfn, granuleShift);

    public ulong StartPfn => Inner.StartPfn;
    public ulong MaxPfn => Inner.MaxPfn;
    public virtual ulong AllocFast(ulong pages, ulong limitPfn, bool flushCachesOnFailure) => Inner.AllocFast(pages, limitPfn, flushCachesOnFailure);
    public bool FreeFast(ulong pfn, ulong pages) => Inner.FreeFast(pfn, pages);
    public virtual ulong Alloc(ulong pages, ulong limitPfn, bool sizeAligned) => Inner.Alloc(pages, limitPfn, sizeAligned);
    public bool Free(ulong pfn) => Inner.Free(pfn);
    public bool Reserve(ulong pfnLo, ulong pfnHi) => Inner.Reserve(pfnLo, pfnHi);
    public void FlushCaches() => Inner.FlushCaches();
    public bool Contains(ulong pfn) => Inner.Contains(pfn);
    public int Count => Inner.Count;
    public int CachedCount => Inner.CachedCount;
    public IReadOnlyList<IovaRange> Ranges() => Inner.Ranges();
}

/// <summary>Planted: the limit is taken as one past the last PFN.</summary>
public sealed class LimitPlusOne(ulong startPfn, int granuleShift) : WrappedAugmented(startPfn, granuleShift)
{
    public override ulong AllocFast(ulong pages, ulong limitPfn, bool flushCachesOnFailure) =>
        Inner.AllocFast(pages, limitPfn < MaxPfn ? limitPfn + 1 : limitPfn, flushCachesOnFailure);
}

/// <summary>Planted: three-page tree requests are refused, whatever the space holds.</summary>
public sealed class RefusesThreePages(ulong startPfn, int granuleShift) : WrappedAugmented(startPfn, granuleShift)
{
    public override ulong Alloc(ulong pages, ulong limitPfn, bool sizeAligned) => pages == 3 ? 0 : Inner.Alloc(pages, limitPfn, sizeAligned);
}

/// <summary>Planted: alloc_iova of 5 pages throws.</summary>
public sealed class ThrowsOnFivePages(ulong startPfn, int granuleShift) : WrappedAugmented(startPfn, granuleShift)
{
    public override ulong Alloc(ulong pages, ulong limitPfn, bool sizeAligned) =>
        pages == 5 ? throw new InvalidOperationException("five is not supported") : Inner.Alloc(pages, limitPfn, sizeAligned);
}

/// <summary>An allocator without the (ulong, int) constructor DmaVerify needs.</summary>
public sealed class WithoutTheConstructor() : WrappedAugmented(1, 12);
