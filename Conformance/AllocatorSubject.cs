using DmaVerify.Native;
using DmaVerify.Optimized.Iova;

namespace DmaVerify.Conformance;

/// <summary>
/// An allocator the suite checks: a name, how to make a fresh instance over a space (an
/// Optimized <c>IovaAllocatorFactory</c> has this shape), and what the suite may rely on.
/// </summary>
/// <param name="Name">Printed in results.</param>
/// <param name="Create">A fresh, empty allocator for (start PFN, granule shift).</param>
public sealed record AllocatorSubject(string Name, Func<ulong, int, IIovaAllocator> Create)
{
    /// <summary>Ranges given back with FreeFast may stay in caches until a flush (judge tree
    /// failures only after one). False: every free frees at once.</summary>
    public bool KeepsCaches { get; init; } = true;

    /// <summary>Its Ranges() are its real view of the space (checked after every call). False
    /// for a C allocator without dv_iova_ranges.</summary>
    public bool ReportsRanges { get; init; } = true;

    /// <summary>How calls are written in findings.</summary>
    public CallStyle Style { get; init; } = CallStyle.Managed;

    /// <summary>Explains a refusal the specification calls wrong as the allocator's documented
    /// incompleteness (a reason), or null when it is a finding.</summary>
    public Func<IIovaAllocator, string?>? KnownIncompleteness { get; init; }

    /// <summary>The allocator's own consistency check after every call (null = fine).</summary>
    public Func<IIovaAllocator, string?>? SelfCheck { get; init; }

    /// <summary>A subject over a plugged allocator, with what its library offers.</summary>
    public static AllocatorSubject Of(PluggedAllocator allocator) => new(allocator.Name, allocator.Create)
    {
        KeepsCaches = allocator.Capabilities.KeepsCaches,
        ReportsRanges = allocator.Capabilities.ReportsRanges,
        Style = allocator.Capabilities.Style,
    };
}
