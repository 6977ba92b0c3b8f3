using DmaVerify.Contracts;
using DmaVerify.Model;
using DmaVerify.Tests.Model;

namespace DmaVerify.Tests.Invariants;

/// <summary>
/// The incremental checker against its specification, the full checker: after every op of random
/// runs and of every corpus scenario, the invariants each reports as newly broken must be the same
/// (on the correct model both report nothing). Twelve bugs planted in the model make both speak,
/// each at the step that introduces it: a bug only the full checker sees is a defect of the
/// incremental one.
/// </summary>
public class IncrementalCheckerTests
{
    /// <summary>The invariant ids each checker calls newly broken at one step.</summary>
    private sealed record StepVerdict(int Step, Op Op, SortedSet<string> Full, SortedSet<string> Incremental)
    {
        public bool Agree => Full.SetEquals(Incremental);
        public override string ToString() =>
            $"step {Step} {ScenarioPrinter.FormatOp(Op)}: full [{string.Join(", ", Full)}] incremental [{string.Join(", ", Incremental)}]";
    }

    /// <summary>Runs ops on the model and judges every step with both checkers.</summary>
    private static List<StepVerdict> Judge(ModelSystem model, IEnumerable<Op> ops)
    {
        var verdicts = new List<StepVerdict>();
        var present = InvariantChecker.Check(model.State).Select(v => v.Invariant).ToHashSet();
        int step = 0;
        foreach (var op in ops)
        {
            var before = model.View;
            var beforeExport = model.State;
            var outcome = model.Apply(op);
            var afterExport = model.State;
            var full = new SortedSet<string>(InvariantChecker.CheckStep(beforeExport, op, outcome, afterExport).Select(v => v.Invariant));
            var now = InvariantChecker.Check(afterExport).Select(v => v.Invariant).ToHashSet();
            full.UnionWith(now.Except(present));
            present = now;
            var incremental = new SortedSet<string>(IncrementalChecker.CheckStep(before, op, outcome, model.View, model.Footprint).Select(v => v.Invariant));
            verdicts.Add(new StepVerdict(step++, op, full, incremental));
        }
        return verdicts;
    }

    private static IEnumerable<Op> RandomOps(PlatformConfig platform, ModelSystem model, int seed, int count)
    {
        var random = new Random(seed);
        var generator = new RandomOps(platform, random);
        for (int i = 0; i < count; i++) yield return generator.Next(model.State);
    }

    [Theory]
    [MemberData(nameof(PresetData.All), MemberType = typeof(PresetData))]
    public void BothCheckersAgreeOnRandomRunsOfTheCorrectModel(string preset)
    {
        for (int seed = 1; seed <= 2; seed++)
        {
            var platform = Presets.Get(preset);
            var model = new ModelSystem(platform);
            var verdicts = Judge(model, RandomOps(platform, model, seed * 104729 + preset.Length, 250));
            var disagreements = verdicts.Where(v => !v.Agree || v.Full.Count > 0).ToList();
            Assert.True(disagreements.Count == 0, $"{preset} seed {seed}:\n{string.Join("\n", disagreements.Take(5))}");
        }
    }

    public static TheoryData<string> CorpusFiles() => Repo.CorpusTheoryData();

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public void BothCheckersAgreeOnEveryCorpusScenario(string file)
    {
        var parsed = ScenarioParser.ParseFile(Path.Combine(Repo.Root, file));
        Assert.True(parsed.IsSuccess, string.Join("; ", parsed.Errors));
        var scenario = parsed.Scenario!;
        var model = new ModelSystem(scenario.BuildPlatform());
        var disagreements = Judge(model, scenario.Steps.Select(s => s.Op)).Where(v => !v.Agree).ToList();
        Assert.True(disagreements.Count == 0, string.Join("\n", disagreements));
    }

    /// <summary>A planted model bug, a short scenario that shows it, and the invariant it breaks.</summary>
    public sealed record Plant(string Bug, string Scenario, string Invariant)
    {
        public override string ToString() => Bug;
    }

    public static readonly TheoryData<Plant> Plants =
    [
        new(nameof(ModelPlant.TceIgnoresBusLimit), """
            preset power-tce
            device 0 name=nvme iommu=0 mask=0xFFFFFFFF coherent=0xFFFFFFFF bus-limit=0x3FFFFFFF pci boundary=0xFFFFFFFF
            map dev=0 phys=0x0 len=0x40000000 dir=bidirectional
            """, "INV-05"),
        new(nameof(ModelPlant.UntrustedUnalignedThroughTable), """
            preset k8-gart
            device 2 name=isa-dma iommu=0 mask=0x7FFFFFFF coherent=0x7FFFFFFF untrusted
            map dev=2 phys=0xA8E8E8E8 len=0x100 dir=to_device
            """, "INV-12"),
        new(nameof(ModelPlant.StrictUnmapKeepsIotlb), """
            preset amd-vi
            map dev=0 phys=0x10000000 len=0x1000 dir=bidirectional
            device-access dev=0 addr=#0 len=0x4 read
            unmap dev=0 handle=#0 len=0x1000 dir=bidirectional
            """, "INV-08"),
        new(nameof(ModelPlant.UnmapLeaksBounce), """
            preset x86-vtd
            map dev=2 phys=0x10000010 len=0x100 dir=to_device
            unmap dev=2 handle=#0 len=0x100 dir=to_device
            """, "INV-15"),
        new(nameof(ModelPlant.LazyUnmapFreesIova), """
            preset x86-vtd
            map dev=0 phys=0x10000000 len=0x1000 dir=bidirectional
            device-access dev=0 addr=#0 len=0x4 read
            unmap dev=0 handle=#0 len=0x1000 dir=bidirectional
            """, "INV-08"),
        new(nameof(ModelPlant.LeavesOffByOneGranule), """
            preset x86-vtd
            map dev=0 phys=0x10000000 len=0x1000 dir=bidirectional
            """, "INV-06"),
        new(nameof(ModelPlant.DetachKeepsIotlb), """
            preset soc-vcm
            set-domain-type dev=1 type=dma-fq
            map-resource dev=2 phys=0x8031000 len=0x2000 dir=bidirectional
            device-access dev=2 addr=#0 len=0x1 read
            unmap-resource dev=2 handle=#0 len=0x2000 dir=bidirectional
            set-domain-type dev=2 type=identity
            """, "INV-07"),
        new(nameof(ModelPlant.ReservedNotOccupied), """
            preset x86-vtd
            map dev=1 phys=0x10000000 len=0x1000000 dir=bidirectional
            map dev=1 phys=0x20000000 len=0x1000000 dir=bidirectional
            """, "INV-02"),
        new(nameof(ModelPlant.WrongSizeUnmapAccepted), """
            preset x86-vtd
            map dev=0 phys=0x10000000 len=0x1000 dir=bidirectional
            unmap dev=0 handle=#0 len=0x1001 dir=bidirectional
            """, "INV-10"),
        new(nameof(ModelPlant.UnmapKeepsLeaves), """
            preset amd-vi
            map dev=0 phys=0x10000000 len=0x1000 dir=bidirectional
            unmap dev=0 handle=#0 len=0x1000 dir=bidirectional
            """, "INV-15"),
        new(nameof(ModelPlant.SgMergeIgnoresMaxSegment), """
            preset x86-vtd
            map-sg dev=0 segs=0x10000000+0x10000,0x10010000+0x10000 dir=bidirectional
            """, "INV-09"),
        new(nameof(ModelPlant.FailedOpKeepsChanges), """
            preset k8-gart
            map-sg dev=0 segs=0x100000000+0x800,0x10000000000+0x1000 dir=bidirectional
            """, "INV-15"),
    ];

    [Theory]
    [MemberData(nameof(Plants))]
    public void EachPlantedModelBugIsSeenByBothCheckersAtTheStepThatMakesIt(Plant plant)
    {
        var parsed = ScenarioParser.Parse(plant.Scenario.Replace("\r", ""));
        Assert.True(parsed.IsSuccess, string.Join("; ", parsed.Errors));
        var scenario = parsed.Scenario!;
        var ops = scenario.Steps.Select(s => s.Op).ToList();

        // Without the bug: clean.
        var clean = Judge(new ModelSystem(scenario.BuildPlatform()), ops);
        Assert.True(clean.All(v => v.Full.Count == 0 && v.Incremental.Count == 0), string.Join("\n", clean));

        // With it: both see it, at the last step, as the same invariants.
        var planted = Judge(new ModelSystem(scenario.BuildPlatform(), new ModelOptions { Plants = Enum.Parse<ModelPlant>(plant.Bug) }), ops);
        var last = planted[^1];
        Assert.True(planted.Take(planted.Count - 1).All(v => v.Full.Count == 0 && v.Incremental.Count == 0), string.Join("\n", planted));
        Assert.True(last.Full.Contains(plant.Invariant), string.Join("\n", planted.Select(v => $"{v} -> {v.Op}")));
        Assert.True(last.Agree, last.ToString());
    }
}
