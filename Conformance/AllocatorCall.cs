using System.Globalization;
using DmaVerify.Native;

namespace DmaVerify.Conformance;

/// <summary>
/// One call of a conformance case, in the allocator API's terms. Calls that give something back
/// name a live allocation by its index in allocation order (<c>#k</c>, taken modulo the live
/// count, as scenario handles do), so a case stays meaningful when shrinking removes calls
/// before it. A call whose preconditions do not hold in the state it meets (nothing live, a
/// reservation over a live range) is skipped, never run.
/// </summary>
public abstract record AllocatorCall
{
    /// <summary>The line in the case text form.</summary>
    public abstract string ToText();

    private protected static string Hex(ulong v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);
}

/// <summary>alloc_iova_fast: <c>alloc_fast pages=0x3 limit_pfn=0xff flush_rcache=1</c>.</summary>
public sealed record AllocFastCall(ulong Pages, ulong LimitPfn, bool Flush) : AllocatorCall
{
    public override string ToText() => $"alloc_fast pages={Hex(Pages)} limit_pfn={Hex(LimitPfn)} flush_rcache={(Flush ? 1 : 0)}";
    internal IovaCallText Call => new(IovaCall.AllocFast, Pages, LimitPfn, Flush ? 1UL : 0);
}

/// <summary>alloc_iova: <c>alloc pages=0x3 limit_pfn=0xff size_aligned=1</c>.</summary>
public sealed record AllocCall(ulong Pages, ulong LimitPfn, bool SizeAligned) : AllocatorCall
{
    public override string ToText() => $"alloc pages={Hex(Pages)} limit_pfn={Hex(LimitPfn)} size_aligned={(SizeAligned ? 1 : 0)}";
    internal IovaCallText Call => new(IovaCall.Alloc, Pages, LimitPfn, SizeAligned ? 1UL : 0);
}

/// <summary>free_iova of live allocation #Live, passing its first PFN plus
/// <see cref="Offset"/> (modulo its size: any PFN inside frees it): <c>free #2+0x1</c>.</summary>
public sealed record FreeCall(int Live, ulong Offset) : AllocatorCall
{
    public override string ToText() => Offset == 0 ? $"free #{Live}" : $"free #{Live}+{Hex(Offset)}";
}

/// <summary>free_iova_fast of live alloc_fast allocation #Live (counted among those), with the
/// page count it was requested with: <c>free_fast #0</c>.</summary>
public sealed record FreeFastCall(int Live) : AllocatorCall
{
    public override string ToText() => $"free_fast #{Live}";
}

/// <summary>free_iova of a PFN that no allocation, reservation or cached range holds: the answer
/// must be 0 and nothing may change: <c>free pfn=0x40</c>.</summary>
public sealed record FreeUnheldCall(ulong Pfn) : AllocatorCall
{
    public override string ToText() => $"free pfn={Hex(Pfn)}";
}

/// <summary>reserve_iova over space no live allocation holds, caches flushed first (as
/// dma-iommu reserves): <c>reserve pfn_lo=0x10 pfn_hi=0x20</c>.</summary>
public sealed record ReserveCall(ulong PfnLo, ulong PfnHi) : AllocatorCall
{
    public override string ToText() => $"reserve pfn_lo={Hex(PfnLo)} pfn_hi={Hex(PfnHi)}";
}

/// <summary>The caches back to the tree: <c>flush_caches</c>.</summary>
public sealed record FlushCall : AllocatorCall
{
    public override string ToText() => "flush_caches";
}
