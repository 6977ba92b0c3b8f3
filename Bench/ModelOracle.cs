using BenchmarkDotNet.Attributes;
using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Bench;

/// <summary>
/// The reference model as an oracle: a hot 4 KiB map + unmap on x86-vtd (device 0, DMA-FQ)
/// with 10^3, 10^4 and 10^5 live mappings, run alone (<see cref="Apply"/>) and judged as an
/// engine judges it (<see cref="ApplyAndCheckIncrementally"/>: the invariants on each op's
/// footprint). The goal: ≤ 20 µs per map + unmap at 10^4, and 10^5 within 2× of 10^3.
/// </summary>
[MemoryDiagnoser]
public class ModelOracle
{
    [Params(1_000, 10_000, 100_000)]
    public int Live { get; set; }

    private ModelSystem _model = null!;
    private Op _map = null!;

    [GlobalSetup]
    public void Setup()
    {
        _model = new ModelSystem(Presets.Get(Presets.X86Vtd));
        for (int i = 0; i < Live; i++) Workloads.MapPage(_model.Apply, i);
        _map = new Map(Workloads.Nic, new PhysAddr(Workloads.PagePhys(Live + 1)), 0x1000, DmaDirection.ToDevice);
    }

    private Unmap UnmapOf(Outcome mapped) => new(Workloads.Nic, new RawRef(((Mapped)mapped).Dma.Value), 0x1000, DmaDirection.ToDevice);

    [Benchmark(Baseline = true)]
    public void Apply()
    {
        var mapped = _model.Apply(_map);
        _model.Apply(UnmapOf(mapped));
    }

    [Benchmark]
    public int ApplyAndCheckIncrementally()
    {
        var before = _model.View;
        var mapped = _model.Apply(_map);
        int found = IncrementalChecker.CheckStep(before, _map, mapped, _model.View, _model.Footprint).Count;
        before = _model.View;
        var unmap = UnmapOf(mapped);
        var done = _model.Apply(unmap);
        return found + IncrementalChecker.CheckStep(before, unmap, done, _model.View, _model.Footprint).Count;
    }
}

/// <summary>
/// What judging one op costs at 10^4 live mappings: the incremental checker on the op's
/// footprint against the full checker (the specification) on the exported state, which is
/// what engines paid per checked step before.
/// </summary>
[MemoryDiagnoser]
public class FullVersusIncrementalCheck
{
    private const int Live = 10_000;
    private ModelSystem _model = null!;
    private ModelState _before = null!;
    private Op _map = null!;
    private Outcome _outcome = null!;
    private SystemState _exported = null!;

    [GlobalSetup]
    public void Setup()
    {
        _model = new ModelSystem(Presets.Get(Presets.X86Vtd));
        for (int i = 0; i < Live; i++) Workloads.MapPage(_model.Apply, i);
        _before = _model.View;
        _map = new Map(Workloads.Nic, new PhysAddr(Workloads.PagePhys(Live + 1)), 0x1000, DmaDirection.ToDevice);
        _outcome = _model.Apply(_map);
        _exported = _model.State;
    }

    [Benchmark(Baseline = true)]
    public int Incremental() => IncrementalChecker.CheckStep(_before, _map, _outcome, _model.View, _model.Footprint).Count;

    [Benchmark]
    public int Full() => InvariantChecker.Check(_exported).Count;

    [Benchmark]
    public int ExportAndFull() => InvariantChecker.Check(_model.View.Export()).Count;
}

/// <summary>Replay throughput: a generated x86-vtd scenario (5,000 mappings made, then map /
/// access / unmap cycles with 5,000 live) run through the replay runner, judged incrementally
/// step by step and fully at the end; reported per 1,000 ops.</summary>
[MemoryDiagnoser]
public class ModelReplay
{
    private const int Live = 5_000, Ops = 20_000;
    private Scenario _scenario = null!;

    [GlobalSetup]
    public void Setup() => _scenario = Generate();

    /// <summary>The scenario of `verify replay`'s 20,000-op acceptance run.</summary>
    public static Scenario Generate()
    {
        var steps = new List<ScenarioStep>(Ops);
        for (int i = 0; i < Live; i++)
            steps.Add(new ScenarioStep(new Map(Workloads.Nic, new PhysAddr(Workloads.PagePhys(i)), 0x1000, DmaDirection.Bidirectional)));
        for (int j = 0, next = Live; steps.Count < Ops; j++, next++)
        {
            steps.Add(new ScenarioStep(new DeviceAccess(Workloads.Nic, new LiveRef(j * 37 % Live), 4, false)));
            steps.Add(new ScenarioStep(new Unmap(Workloads.Nic, new LiveRef(0), 0x1000, DmaDirection.Bidirectional)));
            steps.Add(new ScenarioStep(new Map(Workloads.Nic, new PhysAddr(Workloads.PagePhys(next % 60_000)), 0x1000, DmaDirection.Bidirectional)));
        }
        return new Scenario(Presets.X86Vtd, ValueList<DeviceConfig>.Empty, steps.Take(Ops).ToValueList());
    }

    [Benchmark(OperationsPerInvoke = Ops / 1000)]
    public ReplayStatus Replay1000Ops() => ScenarioRunner.Run(_scenario).Status;
}
