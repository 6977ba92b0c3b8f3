using BenchmarkDotNet.Attributes;
using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Bench;

/// <summary>A 64-segment map_sg (4 KiB pages scattered through RAM, merged into one IOVA
/// range) and its unmap_sg on x86-vtd, with 1,000 live mappings beside it.</summary>
[MemoryDiagnoser]
public class MapSg64
{
    private Func<Op, Outcome> _apply = null!;
    private static readonly MapSg MapOp = new(Workloads.Nic,
        Enumerable.Range(0, 64).Select(i => new SgEntry(new PhysAddr(Workloads.PagePhys(2000 + i * 3)), 0x1000)).ToValueList(),
        DmaDirection.Bidirectional);

    [GlobalSetup(Target = nameof(Optimized))] public void SetupOptimized() => _apply = Prepare(Peer.Optimized);
    [GlobalSetup(Target = nameof(LinuxStyle))] public void SetupLinuxStyle() => _apply = Prepare(Peer.LinuxStyle);
    [GlobalSetup(Target = nameof(Model))] public void SetupModel() => _apply = Prepare(Peer.Model);

    private static Func<Op, Outcome> Prepare(Peer peer)
    {
        var apply = Workloads.Build(peer, Presets.Get(Presets.X86Vtd));
        for (int i = 0; i < 1000; i++) Workloads.MapPage(apply, i);
        return apply;
    }

    private void MapUnmap()
    {
        var mapped = (SgMapped)_apply(MapOp);
        Workloads.Expect(_apply(new UnmapSg(Workloads.Nic, new RawRef(mapped.Segments[0].Dma.Value), 64, DmaDirection.Bidirectional)), "unmap_sg");
    }

    [Benchmark(Baseline = true)] public void Optimized() => MapUnmap();
    [Benchmark] public void LinuxStyle() => MapUnmap();
    [Benchmark] public void Model() => MapUnmap();
}
