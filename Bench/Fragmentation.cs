using BenchmarkDotNet.Attributes;
using DmaVerify.Optimized.Iova;

namespace DmaVerify.Bench;

/// <summary>
/// Allocation under fragmentation: 2N ranges of random 1–64 pages allocated, every other one
/// freed (N live ranges with N holes), then one op = allocate a random 1–64-page size-aligned
/// range from the tree (alloc_iova, no magazines) and free it again. Optimized (augmented tree)
/// against LinuxStyle (rbtree with cached nodes and a linear walk) at N = 10^3..10^6.
/// </summary>
[MemoryDiagnoser]
public class Fragmentation
{
    [Params(1_000, 10_000, 100_000, 1_000_000)]
    public int LiveRanges { get; set; }

    private IIovaAllocator _optimized = null!, _linux = null!;
    private int _next;
    private const ulong Limit = (1UL << 36) - 1; // 48-bit IOVA space in 4 KiB pages

    [GlobalSetup(Target = nameof(Optimized))]
    public void SetupOptimized() => _optimized = Fill(new AugmentedIovaAllocator(1, 12, cacheSlots: 1), LiveRanges);

    [GlobalSetup(Target = nameof(LinuxStyle))]
    public void SetupLinuxStyle() => _linux = Fill(new LinuxStyleIovaAllocator(1, 12, cacheSlots: 1), LiveRanges);

    private readonly ulong[] _sizes = Sizes();

    internal static ulong[] Sizes()
    {
        var rng = new Random(7);
        return Enumerable.Range(0, 4096).Select(_ => (ulong)rng.Next(1, 65)).ToArray();
    }

    internal static IIovaAllocator Fill(IIovaAllocator allocator, int live)
    {
        var rng = new Random(42);
        var pfns = new ulong[live * 2];
        for (int i = 0; i < pfns.Length; i++)
        {
            pfns[i] = allocator.Alloc((ulong)rng.Next(1, 65), Limit, sizeAligned: true);
            if (pfns[i] == 0) throw new InvalidOperationException("the space is full");
        }
        for (int i = 0; i < pfns.Length; i += 2) allocator.Free(pfns[i]);
        return allocator;
    }

    private ulong AllocFree(IIovaAllocator allocator) => AllocFree(allocator, _sizes[_next++ & 4095]);

    internal static ulong AllocFree(IIovaAllocator allocator, ulong size)
    {
        ulong pfn = allocator.Alloc(size, Limit, sizeAligned: true);
        allocator.Free(pfn);
        return pfn;
    }

    [Benchmark(Baseline = true)] public ulong Optimized() => AllocFree(_optimized);
    [Benchmark] public ulong LinuxStyle() => AllocFree(_linux);
}
