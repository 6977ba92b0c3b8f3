using DmaVerify.Optimized.Iova;

namespace DmaVerify.Native.Loading;

/// <summary>What a loaded allocator offers beyond the required calls.</summary>
/// <param name="KeepsCaches">It has dv_iova_flush_caches (or is a .NET allocator): ranges given
/// back with FreeFast may stay unavailable until a flush. Without it, DmaVerify assumes none.</param>
/// <param name="ReportsRanges">It has dv_iova_ranges (or is a .NET allocator): its own view of the
/// space can be shown and compared.</param>
/// <param name="CoverageEdges">Edges compiled with trace-pc-guard and counted by the coverage
/// runtime (dv_coverage_*); 0 when the library is not instrumented.</param>
/// <param name="Style">How its calls are written in messages.</param>
public sealed record AllocatorCapabilities(bool KeepsCaches, bool ReportsRanges, uint CoverageEdges, CallStyle Style)
{
    public string Describe()
    {
        var parts = new List<string>();
        if (Style == CallStyle.CAbi)
        {
            parts.Add($"C ABI {AbiVersion}");
            parts.Add(KeepsCaches ? "dv_iova_flush_caches" : "no dv_iova_flush_caches (no caches assumed)");
            parts.Add(ReportsRanges ? "dv_iova_ranges" : "no dv_iova_ranges");
        }
        else parts.Add(".NET IIovaAllocator");
        if (CoverageEdges > 0) parts.Add($"{CoverageEdges} coverage edges");
        return string.Join(", ", parts);
    }

    /// <summary>The ABI version this DmaVerify speaks (DV_IOVA_ABI_VERSION).</summary>
    public const uint AbiVersion = 1;
}

/// <summary>A loaded allocator, in this process: makes one <see cref="IIovaAllocator"/> per IOVA
/// space. Implemented by the C ABI loader and the .NET type loader; the host process serves
/// one of these to its client.</summary>
public interface IAllocatorSource
{
    AllocatorCapabilities Capabilities { get; }

    /// <summary>A fresh space; throws <see cref="AllocatorRefusedException"/> when the allocator
    /// refuses it.</summary>
    IIovaAllocator Create(ulong startPfn, int granuleShift);

    /// <summary>Edges of the library reached at least once so far (0 without coverage).</summary>
    uint ReachedEdges { get; }

    /// <summary>Ends an instance now (the host's Destroy); later calls on it are refused.</summary>
    void Destroy(IIovaAllocator allocator);
}
