using BenchmarkDotNet.Attributes;
using DmaVerify.Contracts;
using DmaVerify.Optimized.Dma;

namespace DmaVerify.Bench;

/// <summary>
/// What a fuzzer pays per input to start from a preset's initial state: building an
/// OptimizedSystem (the baseline) against restoring a snapshot of the initial state into a
/// system that has run some ops. Per preset.
/// </summary>
[MemoryDiagnoser]
public class SnapshotRestore
{
    [Params(Presets.X86Vtd, Presets.AmdVi, Presets.ArmSmmu, Presets.K8Gart, Presets.PowerTce, Presets.Direct, Presets.Virtio, Presets.SocVcm)]
    public string Preset { get; set; } = Presets.X86Vtd;

    private PlatformConfig _platform = null!;
    private OptimizedSystem _system = null!;
    private SystemSnapshot _initial = null!;

    [GlobalSetup]
    public void Setup()
    {
        _platform = Presets.Get(Preset);
        _system = new OptimizedSystem(_platform);
        _initial = _system.Snapshot();
        // Dirty it the way an input would: some maps on every device.
        foreach (var device in _platform.Devices)
            for (int i = 0; i < 8; i++)
                _system.Apply(new Map(device.Id, new PhysAddr(_platform.Ram[0].Start + 0x10_0000 + (ulong)i * 0x1000), 0x1000, DmaDirection.ToDevice));
    }

    [Benchmark(Baseline = true)] public OptimizedSystem Construct() => new(_platform);
    [Benchmark] public void RestoreInitial() => _system.Restore(_initial);
}
