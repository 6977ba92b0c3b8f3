namespace DmaVerify.Native;

/// <summary>The calls of the allocator API (the C ABI's functions and their
/// <see cref="Optimized.Iova.IIovaAllocator"/> counterparts); also the host protocol's opcodes.</summary>
public enum IovaCall : byte
{
    Create = 1,
    Destroy,
    Alloc,
    Free,
    AllocFast,
    FreeFast,
    Reserve,
    FlushCaches,
    Ranges,
}

/// <summary>How a call is written in messages: as the C ABI names it
/// (<c>dv_iova_alloc_fast(pages=0x3, limit_pfn=0xff, flush_rcache=1)</c>) or as the .NET
/// interface does (<c>AllocFast(pages: 0x3, limitPfn: 0xFF, flushCachesOnFailure: True)</c>).</summary>
public enum CallStyle { CAbi, Managed }

/// <summary>One allocator call with its arguments, written as its caller would recognise it.</summary>
public readonly record struct IovaCallText(IovaCall Call, ulong A = 0, ulong B = 0, ulong C = 0)
{
    public string Format(CallStyle style) => style == CallStyle.CAbi ? CAbi() : Managed();

    private string CAbi() => Call switch
    {
        IovaCall.Create => $"dv_iova_create(start_pfn=0x{A:x}, granule_shift={B})",
        IovaCall.Destroy => "dv_iova_destroy(iovad)",
        IovaCall.Alloc => $"dv_iova_alloc(iovad, pages=0x{A:x}, limit_pfn=0x{B:x}, size_aligned={C})",
        IovaCall.Free => $"dv_iova_free(iovad, pfn=0x{A:x})",
        IovaCall.AllocFast => $"dv_iova_alloc_fast(iovad, pages=0x{A:x}, limit_pfn=0x{B:x}, flush_rcache={C})",
        IovaCall.FreeFast => $"dv_iova_free_fast(iovad, pfn=0x{A:x}, pages=0x{B:x})",
        IovaCall.Reserve => $"dv_iova_reserve(iovad, pfn_lo=0x{A:x}, pfn_hi=0x{B:x})",
        IovaCall.FlushCaches => "dv_iova_flush_caches(iovad)",
        IovaCall.Ranges => "dv_iova_ranges(iovad, ...)",
        _ => $"call {(byte)Call}",
    };

    private string Managed() => Call switch
    {
        IovaCall.Create => $"new(startPfn: 0x{A:X}, granuleShift: {B})",
        IovaCall.Destroy => "(dropped)",
        IovaCall.Alloc => $"Alloc(pages: 0x{A:X}, limitPfn: 0x{B:X}, sizeAligned: {C != 0})",
        IovaCall.Free => $"Free(pfn: 0x{A:X})",
        IovaCall.AllocFast => $"AllocFast(pages: 0x{A:X}, limitPfn: 0x{B:X}, flushCachesOnFailure: {C != 0})",
        IovaCall.FreeFast => $"FreeFast(pfn: 0x{A:X}, pages: 0x{B:X})",
        IovaCall.Reserve => $"Reserve(pfnLo: 0x{A:X}, pfnHi: 0x{B:X})",
        IovaCall.FlushCaches => "FlushCaches()",
        IovaCall.Ranges => "Ranges()",
        _ => $"call {(byte)Call}",
    };
}
