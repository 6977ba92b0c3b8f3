using BenchmarkDotNet.Attributes;
using DmaVerify.Optimized.Iova;

namespace DmaVerify.Bench;

/// <summary>
/// Allocator workloads that hurt Linux's iova.c, Optimized (augmented tree) against LinuxStyle
/// (iova.c's algorithm) in one run. Sizes are in 4 KiB pages; the 32-bit limit is PFN 2^20 − 1.
/// See docs/benchmarks.md for where each pattern was reported.
/// </summary>
[MemoryDiagnoser]
public class Pathological
{
    private const ulong Limit32 = (1UL << 20) - 1;

    public enum Workload
    {
        /// <summary>The space below 4 GiB is a comb of 1-page ranges and 1-page holes
        /// (N ranges); each op frees and re-takes a 1-page range near the top (which moves
        /// cached32_node back up, as any free above it does) and then allocates and frees a
        /// 2-page range, which fits only below the comb: iova.c walks the comb node by node.</summary>
        LinearWalkBelow4G,
        /// <summary>64 CPUs; each op allocates on one CPU and frees on another (a NIC's RX
        /// completions on another core): every CPU's magazines fill on the freeing side and
        /// empty on the allocating side, the depot overflows and whole magazines go back to a
        /// fragmented tree, which then serves the allocations.</summary>
        DepotExhaustion,
        /// <summary>N/4 live ranges of mixed sizes, three in four above the largest cached size
        /// (32 pages) so the caches never help; each op frees a random live range and allocates
        /// another size under the 32-bit limit.</summary>
        MixedSizes,
    }

    [Params(Workload.LinearWalkBelow4G, Workload.DepotExhaustion, Workload.MixedSizes)]
    public Workload Kind { get; set; }

    [Params(20_000)]
    public int N { get; set; }

    private IIovaAllocator _a = null!;
    private ulong[] _live = [];
    private ulong[] _liveSize = [];
    private ulong _combTop;
    private int _next;
    private readonly Random _rng = new(11);

    [GlobalSetup(Target = nameof(Optimized))]
    public void SetupOptimized() => Setup(slots => new AugmentedIovaAllocator(1, 12, slots));

    [GlobalSetup(Target = nameof(LinuxStyle))]
    public void SetupLinuxStyle() => Setup(slots => new LinuxStyleIovaAllocator(1, 12, slots));

    private void Setup(Func<int, IIovaAllocator> make)
    {
        switch (Kind)
        {
            case Workload.LinearWalkBelow4G:
            {
                _a = make(1);
                var comb = new ulong[2 * N];
                for (int i = 0; i < comb.Length; i++) comb[i] = Expect(_a.Alloc(1, Limit32, sizeAligned: true));
                for (int i = 1; i < comb.Length; i += 2) _a.Free(comb[i]); // holes of one page
                _combTop = comb[0];
                break;
            }
            case Workload.DepotExhaustion:
            {
                _a = make(64);
                _live = new ulong[N];
                _liveSize = new ulong[N];
                for (int i = 0; i < N; i++) { _liveSize[i] = 1UL << _rng.Next(0, 6); _live[i] = Expect(_a.AllocFast(_liveSize[i], Limit32, true)); }
                break;
            }
            default:
            {
                _a = make(1);
                _live = new ulong[N / 4];
                _liveSize = new ulong[N / 4];
                for (int i = 0; i < _live.Length; i++) { _liveSize[i] = MixedSize(); _live[i] = Expect(_a.AllocFast(_liveSize[i], Limit32, true)); }
                break;
            }
        }
    }

    private ulong MixedSize() => _rng.Next(4) == 0 ? (ulong)_rng.Next(1, 33) : (ulong)_rng.Next(33, 129);

    private static ulong Expect(ulong pfn) => pfn != 0 ? pfn : throw new InvalidOperationException("the 32-bit space is full");

    private ulong Op()
    {
        switch (Kind)
        {
            case Workload.LinearWalkBelow4G:
            {
                _a.Free(_combTop);
                _combTop = Expect(_a.Alloc(1, Limit32, sizeAligned: true));
                ulong pfn = Expect(_a.Alloc(2, Limit32, sizeAligned: true));
                _a.Free(pfn);
                return pfn;
            }
            case Workload.DepotExhaustion:
            {
                // Allocate on CPU c, free (an older range of the same size class) on CPU c + 1.
                int i = _next++ % N, cpu = _next % 64;
                IovaCpu.Pin(cpu);
                ulong pfn = Expect(_a.AllocFast(_liveSize[i], Limit32, true));
                IovaCpu.Pin((cpu + 1) % 64);
                _a.FreeFast(_live[i], _liveSize[i]);
                IovaCpu.Pin(-1);
                _live[i] = pfn;
                return pfn;
            }
            default:
            {
                int i = _rng.Next(_live.Length);
                _a.FreeFast(_live[i], _liveSize[i]);
                _liveSize[i] = MixedSize();
                _live[i] = Expect(_a.AllocFast(_liveSize[i], Limit32, true));
                return _live[i];
            }
        }
    }

    [Benchmark(Baseline = true)] public ulong Optimized() => Op();
    [Benchmark] public ulong LinuxStyle() => Op();
}
