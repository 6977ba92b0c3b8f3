using BenchmarkDotNet.Attributes;
using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Bench;

/// <summary>
/// Hot 4 KiB map + unmap with 10^4 live mappings on x86-vtd (DMA-FQ domain, magazines on):
/// Optimized (the baseline of the ratio column), LinuxStyle, the reference model, and the
/// "limit" (pop a free IOVA, store a PTE, clear it, push the IOVA back).
/// </summary>
[MemoryDiagnoser]
public class HotMapUnmap
{
    public const int LiveMappings = 10_000;
    private Func<Op, Outcome> _apply = null!;
    private LimitBaseline _limit = null!;
    private static readonly Op MapOp = new Map(Workloads.Nic, new PhysAddr(Workloads.PagePhys(LiveMappings + 1)), 0x1000, DmaDirection.ToDevice);

    // One system per benchmark, so no benchmark runs beside another's heap.
    [GlobalSetup(Target = nameof(Optimized))] public void SetupOptimized() => _apply = Prepare(Peer.Optimized);
    [GlobalSetup(Target = nameof(LinuxStyle))] public void SetupLinuxStyle() => _apply = Prepare(Peer.LinuxStyle);
    [GlobalSetup(Target = nameof(Model))] public void SetupModel() => _apply = Prepare(Peer.Model);
    [GlobalSetup(Target = nameof(Limit))] public void SetupLimit() => _limit = new LimitBaseline(LiveMappings);

    internal static Func<Op, Outcome> Prepare(Peer peer) => Prepare(platform => Workloads.Build(peer, platform));

    internal static Func<Op, Outcome> Prepare(Func<PlatformConfig, Func<Op, Outcome>> build)
    {
        var apply = build(Presets.Get(Presets.X86Vtd));
        for (int i = 0; i < LiveMappings; i++) Workloads.MapPage(apply, i);
        return apply;
    }

    internal static void MapUnmap(Func<Op, Outcome> apply)
    {
        var mapped = (Mapped)apply(MapOp);
        apply(new Unmap(Workloads.Nic, new RawRef(mapped.Dma.Value), 0x1000, DmaDirection.ToDevice));
    }

    [Benchmark(Baseline = true)] public void Optimized() => MapUnmap(_apply);
    [Benchmark] public void LinuxStyle() => MapUnmap(_apply);
    [Benchmark] public void Model() => MapUnmap(_apply);
    [Benchmark] public ulong Limit() => _limit.MapUnmap(Workloads.PagePhys(LiveMappings + 1));
}

/// <summary>The least work a map + unmap can do: a stack of free IOVA page numbers and a flat
/// PTE array (no tree, no table walk, no bookkeeping, no checks).</summary>
public sealed class LimitBaseline
{
    private readonly ulong[] _free;
    private int _top;
    private readonly ulong[] _ptes;

    public LimitBaseline(int live)
    {
        int pages = live * 2 + 64;
        _ptes = new ulong[pages];
        _free = new ulong[pages];
        for (int i = pages - 1; i >= live; i--) _free[_top++] = (ulong)i; // the first `live` pages stay mapped
        for (int i = 0; i < live; i++) _ptes[i] = 0x1_0000_0000UL + (ulong)i * 0x1000 | 1;
    }

    public ulong MapUnmap(ulong phys)
    {
        ulong iovaPfn = _free[--_top];
        _ptes[iovaPfn] = phys | 1;      // store the PTE
        ulong dma = iovaPfn << 12;
        _ptes[iovaPfn] = 0;             // unmap: clear it
        _free[_top++] = iovaPfn;        // push the IOVA back
        return dma;
    }
}
