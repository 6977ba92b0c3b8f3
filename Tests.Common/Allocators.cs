using DmaVerify.Optimized.Iova;

namespace DmaVerify.Tests.Common;

/// <summary>Both allocators, fresh, for tests that hold for either.</summary>
public static class Allocators
{
    public static IEnumerable<(string Name, Func<ulong, CachedIovaAllocator> Make)> Both()
    {
        yield return ("Augmented", start => new AugmentedIovaAllocator(start, cacheSlots: 2));
        yield return ("LinuxStyle", start => new LinuxStyleIovaAllocator(start, cacheSlots: 2));
    }

    public const ulong Limit32 = (1UL << 20) - 1; // last PFN below 4 GiB with a 4 KiB granule
}
