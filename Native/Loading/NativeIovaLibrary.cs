using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using DmaVerify.FuzzRuntime;
using DmaVerify.Native.InProcess;
using DmaVerify.Optimized.Iova;

namespace DmaVerify.Native.Loading;

/// <summary>
/// A C allocator loaded into this process through the ABI of <c>Native/include/dmaverify_iova.h</c>:
/// <see cref="NativeLibrary"/> and unmanaged function pointers. Loading checks every required
/// symbol (all missing ones named in one message) and the ABI version before anything else runs.
/// <para>Every call into the library holds one lock (<see cref="Call"/>): the tool promises C
/// code one caller at a time, so global state in the library is safe. Instances dropped without being destroyed (their
/// proxy was collected) are queued and destroyed on the next call from a normal thread, never
/// from the finalizer thread. A crash here ends the process: the host process
/// (<see cref="Isolation.AllocatorHost"/>) is where this runs when isolation is wanted.</para>
/// <para>If the library carries DmaVerify's coverage runtime (dv_coverage_attach, compiled in
/// with trace-pc-guard), its edge counters are pointed at <see cref="CoverageMap.Map"/> before
/// every call, so they land in whatever map the fuzzer has attached.</para>
/// </summary>
public sealed unsafe class NativeIovaLibrary : IAllocatorSource
{
    /// <summary>The symbols every library must export (the header's required functions).</summary>
    public static readonly IReadOnlyList<string> RequiredSymbols =
    [
        "dv_iova_abi_version", "dv_iova_create", "dv_iova_destroy", "dv_iova_alloc", "dv_iova_free",
        "dv_iova_alloc_fast", "dv_iova_free_fast", "dv_iova_reserve",
    ];

    private readonly delegate* unmanaged<ulong, uint, nint> _create;
    private readonly delegate* unmanaged<nint, void> _destroy;
    private readonly delegate* unmanaged<nint, ulong, ulong, int, ulong> _alloc;
    private readonly delegate* unmanaged<nint, ulong, int> _free;
    private readonly delegate* unmanaged<nint, ulong, ulong, int, ulong> _allocFast;
    private readonly delegate* unmanaged<nint, ulong, ulong, void> _freeFast;
    private readonly delegate* unmanaged<nint, ulong, ulong, int> _reserve;
    private readonly delegate* unmanaged<nint, void> _flush;                 // optional
    private readonly delegate* unmanaged<nint, NativeRange*, ulong, ulong> _ranges; // optional
    private readonly delegate* unmanaged<byte*, void> _coverageAttach;       // optional
    private readonly delegate* unmanaged<uint> _coverageReached;             // optional
    private readonly Lock _gate = new();
    private readonly ConcurrentQueue<nint> _orphans = new();
    private byte* _attachedMap;

    [StructLayout(LayoutKind.Sequential)]
    internal struct NativeRange
    {
        public ulong PfnLo, PfnHi;
        public uint Flags, Unused;
    }

    private const uint RangeReserved = 1, RangeCached = 2;

    private NativeIovaLibrary(string path, nint handle, uint coverageEdges)
    {
        Path = path;
        _create = (delegate* unmanaged<ulong, uint, nint>)NativeLibrary.GetExport(handle, "dv_iova_create");
        _destroy = (delegate* unmanaged<nint, void>)NativeLibrary.GetExport(handle, "dv_iova_destroy");
        _alloc = (delegate* unmanaged<nint, ulong, ulong, int, ulong>)NativeLibrary.GetExport(handle, "dv_iova_alloc");
        _free = (delegate* unmanaged<nint, ulong, int>)NativeLibrary.GetExport(handle, "dv_iova_free");
        _allocFast = (delegate* unmanaged<nint, ulong, ulong, int, ulong>)NativeLibrary.GetExport(handle, "dv_iova_alloc_fast");
        _freeFast = (delegate* unmanaged<nint, ulong, ulong, void>)NativeLibrary.GetExport(handle, "dv_iova_free_fast");
        _reserve = (delegate* unmanaged<nint, ulong, ulong, int>)NativeLibrary.GetExport(handle, "dv_iova_reserve");
        _flush = (delegate* unmanaged<nint, void>)Optional(handle, "dv_iova_flush_caches");
        _ranges = (delegate* unmanaged<nint, NativeRange*, ulong, ulong>)Optional(handle, "dv_iova_ranges");
        _coverageAttach = (delegate* unmanaged<byte*, void>)Optional(handle, "dv_coverage_attach");
        _coverageReached = (delegate* unmanaged<uint>)Optional(handle, "dv_coverage_reached_edges");
        Capabilities = new AllocatorCapabilities(_flush != null, _ranges != null, _coverageAttach != null ? coverageEdges : 0, CallStyle.CAbi);
    }

    public string Path { get; }
    public AllocatorCapabilities Capabilities { get; }

    /// <summary>Loads and checks the library; throws <see cref="AllocatorLoadException"/> with one
    /// line naming the problem (nothing of the library runs but its constructors and
    /// dv_iova_abi_version).</summary>
    public static NativeIovaLibrary Load(string path)
    {
        string file = System.IO.Path.GetFileName(path);
        nint handle;
        try
        {
            handle = NativeLibrary.Load(path);
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            string why = e.Message.ReplaceLineEndings(" ");
            if (why.Contains("__sanitizer_cov", StringComparison.Ordinal))
                why += "; it was compiled with -fsanitize-coverage=trace-pc-guard: link Native/coverage/dv_coverage.c into it (docs/your-allocator.md)";
            throw new AllocatorLoadException($"{path}: cannot be loaded as a shared object: {why}");
        }
        var missing = RequiredSymbols.Where(s => !NativeLibrary.TryGetExport(handle, s, out _)).ToList();
        if (missing.Count > 0)
            throw new AllocatorLoadException($"{file}: missing {(missing.Count == 1 ? "symbol" : "symbols")} {string.Join(", ", missing)} (the C ABI of Native/include/dmaverify_iova.h; declare them with C linkage)");
        uint version = ((delegate* unmanaged<uint>)NativeLibrary.GetExport(handle, "dv_iova_abi_version"))();
        if (version != AllocatorCapabilities.AbiVersion)
            throw new AllocatorLoadException($"{file}: dv_iova_abi_version() returned {version}, but this DmaVerify speaks ABI {AllocatorCapabilities.AbiVersion} (Native/include/dmaverify_iova.h)");
        uint edges = NativeLibrary.TryGetExport(handle, "dv_coverage_edges", out nint edgeCount) ? ((delegate* unmanaged<uint>)edgeCount)() : 0;
        return new NativeIovaLibrary(path, handle, edges);
    }

    private static nint Optional(nint handle, string name) => NativeLibrary.TryGetExport(handle, name, out nint p) ? p : 0;

    public uint ReachedEdges
    {
        get
        {
            if (_coverageReached == null) return 0;
            using (Call()) return _coverageReached();
        }
    }

    public IIovaAllocator Create(ulong startPfn, int granuleShift)
    {
        nint iovad;
        using (Call()) iovad = _create(startPfn, (uint)granuleShift);
        if (iovad == 0)
            throw new AllocatorRefusedException($"{new IovaCallText(IovaCall.Create, startPfn, (ulong)granuleShift).Format(CallStyle.CAbi)} returned NULL");
        return new NativeIovaAllocator(this, iovad, startPfn, granuleShift);
    }

    public void Destroy(IIovaAllocator allocator)
    {
        if (allocator is NativeIovaAllocator native) native.Dispose();
    }

    /// <summary>An instance whose proxy was collected: destroyed on the next call.</summary>
    internal void Orphan(nint iovad) => _orphans.Enqueue(iovad);

    // ---- the calls, each inside Call() ----

    internal void DestroyNow(nint iovad)
    {
        using (Call()) _destroy(iovad);
    }

    internal ulong Alloc(nint iovad, ulong pages, ulong limitPfn, bool sizeAligned)
    {
        using (Call()) return _alloc(iovad, pages, limitPfn, sizeAligned ? 1 : 0);
    }

    internal bool Free(nint iovad, ulong pfn)
    {
        using (Call()) return _free(iovad, pfn) != 0;
    }

    internal ulong AllocFast(nint iovad, ulong pages, ulong limitPfn, bool flush)
    {
        using (Call()) return _allocFast(iovad, pages, limitPfn, flush ? 1 : 0);
    }

    internal void FreeFast(nint iovad, ulong pfn, ulong pages)
    {
        using (Call()) _freeFast(iovad, pfn, pages);
    }

    internal bool Reserve(nint iovad, ulong lo, ulong hi)
    {
        using (Call()) return _reserve(iovad, lo, hi) != 0;
    }

    internal void Flush(nint iovad)
    {
        if (_flush == null) return;
        using (Call()) _flush(iovad);
    }

    /// <summary>dv_iova_ranges, called until the buffer is large enough; empty without the symbol.</summary>
    internal IReadOnlyList<AllocatorRange> Ranges(nint iovad)
    {
        if (_ranges == null) return [];
        var buffer = new NativeRange[64];
        ulong total;
        using (Call())
        {
            for (;;)
            {
                fixed (NativeRange* p = buffer) total = _ranges(iovad, p, (ulong)buffer.Length);
                if (total <= (ulong)buffer.Length) break;
                if (total > int.MaxValue / 2) throw new AllocatorCrashedException($"{System.IO.Path.GetFileName(Path)}: dv_iova_ranges reported {total} ranges");
                buffer = new NativeRange[(int)total];
            }
        }
        var list = new AllocatorRange[(int)total];
        for (int i = 0; i < list.Length; i++)
            list[i] = new AllocatorRange(buffer[i].PfnLo, buffer[i].PfnHi, Kind(buffer[i].Flags));
        return list;
    }

    private static AllocatorRangeKind Kind(uint flags) =>
        (flags & RangeReserved) != 0 ? AllocatorRangeKind.Reserved : (flags & RangeCached) != 0 ? AllocatorRangeKind.Cached : AllocatorRangeKind.Allocated;

    /// <summary>One call into the library: takes the lock, points the edge counters at the
    /// current map (the one they last had may be gone) and destroys orphans; on leaving,
    /// publishes the library's edge totals and releases the lock.</summary>
    private CallScope Call()
    {
        _gate.Enter();
        if (_coverageAttach != null && CoverageMap.Map != _attachedMap)
        {
            _coverageAttach(CoverageMap.Map);
            _attachedMap = CoverageMap.Map;
        }
        while (_orphans.TryDequeue(out nint orphan)) _destroy(orphan);
        return new CallScope(this);
    }

    private readonly ref struct CallScope(NativeIovaLibrary library)
    {
        public void Dispose()
        {
            if (library._coverageReached != null) ForeignEdges.Report(library.Capabilities.CoverageEdges, library._coverageReached());
            library._gate.Exit();
        }
    }
}
