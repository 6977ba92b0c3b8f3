using DmaVerify.Native.Loading;

namespace DmaVerify.Native.InProcess;

/// <summary>One dv_iova instance of a C allocator loaded into this process. Collected without
/// <see cref="Dispose"/>, it is destroyed by the library on its next call (never on the
/// finalizer thread).</summary>
public sealed class NativeIovaAllocator : ForeignIovaAllocator, IDisposable
{
    private readonly NativeIovaLibrary _library;
    private nint _iovad;

    internal NativeIovaAllocator(NativeIovaLibrary library, nint iovad, ulong startPfn, int granuleShift)
        : base(startPfn, granuleShift)
    {
        _library = library;
        _iovad = iovad;
    }

    ~NativeIovaAllocator()
    {
        if (_iovad != 0) _library.Orphan(_iovad);
    }

    public override bool HasOwnView => _library.Capabilities.ReportsRanges;
    protected override bool Gone => _iovad == 0;

    protected override ulong CallAllocFast(ulong pages, ulong limitPfn, bool flush) => _library.AllocFast(_iovad, pages, limitPfn, flush);
    protected override void CallFreeFast(ulong pfn, ulong pages) => _library.FreeFast(_iovad, pfn, pages);
    protected override ulong CallAlloc(ulong pages, ulong limitPfn, bool sizeAligned) => _library.Alloc(_iovad, pages, limitPfn, sizeAligned);
    protected override bool CallFree(ulong pfn) => _library.Free(_iovad, pfn);
    protected override bool CallReserve(ulong pfnLo, ulong pfnHi) => _library.Reserve(_iovad, pfnLo, pfnHi);
    protected override void CallFlushCaches() => _library.Flush(_iovad);
    protected override IReadOnlyList<AllocatorRange> CallRanges() => _library.Ranges(_iovad);

    /// <summary>dv_iova_destroy now.</summary>
    public void Dispose()
    {
        nint iovad = _iovad;
        if (iovad == 0) return;
        _iovad = 0;
        _library.DestroyNow(iovad);
        GC.SuppressFinalize(this);
    }
}
