using BenchmarkDotNet.Attributes;
using DmaVerify.Contracts;
using DmaVerify.Native;
using DmaVerify.Native.Loading;
using DmaVerify.Optimized.Dma;
using DmaVerify.Optimized.Iova;

namespace DmaVerify.Bench;

/// <summary>
/// The allocator `verify bench --allocator PATH` names (passed in
/// <see cref="Variable"/>), loaded into the benchmark process (no isolation: a benchmark measures
/// the allocator, not a pipe), for the two workloads that compare it with Optimized and
/// LinuxStyle. Without the variable these benchmarks are not offered.
/// </summary>
public static class Plugged
{
    public const string Variable = "DMAVERIFY_BENCH_ALLOCATOR";

    public static bool Given => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 };

    private static readonly Lazy<PluggedAllocator> s_allocator = new(() =>
    {
        string spec = Environment.GetEnvironmentVariable(Variable)
            ?? throw new InvalidOperationException($"{Variable} is not set: run these through `verify bench --allocator PATH`");
        if (!AllocatorSpec.TryParse(spec, out var parsed, out string error)) throw new InvalidOperationException(error);
        return PluggedAllocator.Load(parsed, new PluggedAllocatorOptions { InProcess = true });
    });

    public static PluggedAllocator Allocator => s_allocator.Value;

    /// <summary>Optimized's DMA layer over the plugged allocator.</summary>
    public static Func<Op, Outcome> System(PlatformConfig platform) =>
        new OptimizedSystem(platform, OptimizedSystemOptions.Optimized with { Name = Allocator.Name, IovaAllocator = Allocator.Create }).Apply;
}

/// <summary>Allocator level, as <see cref="Fragmentation"/>: 2N ranges of 1–64 pages allocated
/// and every other one freed, then one op = alloc_iova of 1–64 size-aligned pages and free_iova
/// of it. N is kept at 10^3 and 10^4: a plugged allocator may be a simple O(n) one.</summary>
[MemoryDiagnoser]
public class PluggedFragmentation
{
    [Params(1_000, 10_000)]
    public int LiveRanges { get; set; }

    private IIovaAllocator _allocator = null!;
    private int _next;
    private readonly ulong[] _sizes = Fragmentation.Sizes();

    [GlobalSetup(Target = nameof(Optimized))]
    public void SetupOptimized() => _allocator = Fragmentation.Fill(new AugmentedIovaAllocator(1, 12, cacheSlots: 1), LiveRanges);

    [GlobalSetup(Target = nameof(LinuxStyle))]
    public void SetupLinuxStyle() => _allocator = Fragmentation.Fill(new LinuxStyleIovaAllocator(1, 12, cacheSlots: 1), LiveRanges);

    [GlobalSetup(Target = nameof(Plugged))]
    public void SetupPlugged() => _allocator = Fragmentation.Fill(Bench.Plugged.Allocator.Create(1, 12), LiveRanges);

    private ulong AllocFree() => Fragmentation.AllocFree(_allocator, _sizes[_next++ & 4095]);

    [Benchmark(Baseline = true)] public ulong Optimized() => AllocFree();
    [Benchmark] public ulong LinuxStyle() => AllocFree();
    [Benchmark] public ulong Plugged() => AllocFree();
}

/// <summary>DMA level, as <see cref="HotMapUnmap"/>: a hot 4 KiB map + unmap on x86-vtd with 10^4
/// live mappings, the same DMA layer over each allocator.</summary>
[MemoryDiagnoser]
public class PluggedMapUnmap
{
    private Func<Op, Outcome> _apply = null!;

    [GlobalSetup(Target = nameof(Optimized))] public void SetupOptimized() => _apply = HotMapUnmap.Prepare(Peer.Optimized);
    [GlobalSetup(Target = nameof(LinuxStyle))] public void SetupLinuxStyle() => _apply = HotMapUnmap.Prepare(Peer.LinuxStyle);
    [GlobalSetup(Target = nameof(Plugged))] public void SetupPlugged() => _apply = HotMapUnmap.Prepare(Bench.Plugged.System);

    [Benchmark(Baseline = true)] public void Optimized() => HotMapUnmap.MapUnmap(_apply);
    [Benchmark] public void LinuxStyle() => HotMapUnmap.MapUnmap(_apply);
    [Benchmark] public void Plugged() => HotMapUnmap.MapUnmap(_apply);
}
