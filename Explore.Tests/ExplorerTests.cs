using DmaVerify.Cli.Composition;
using DmaVerify.Contracts;
using DmaVerify.Explore;
using DmaVerify.Harness;

namespace DmaVerify.Tests.Explore;

/// <summary>
/// The search itself at small depths: what a clean run counts, that deduplication and symmetry
/// only remove repeats (the same states, fewer ops run), that the parts of a sharded search
/// together reach exactly the states of the whole one, that a finding is a shortest sequence,
/// and that a tool problem is reported as one and never as a finding or a pass.
/// </summary>
public sealed class ExplorerTests
{
    private static Implementation Optimized => Implementations.Registry.Get(Implementations.Optimized);

    private static ExplorePlatform Platform(string preset)
    {
        Assert.True(ExplorePlatform.TryCreate(preset, out var platform, out string error), error);
        return platform;
    }

    private static (ExploreResult Result, HashSet<ulong> States) Explore(string preset, ExploreOptions options, Implementation? implementation = null)
    {
        var states = new HashSet<ulong>();
        var twice = new List<ulong>();
        var result = Explorer.Run(Platform(preset), implementation ?? Optimized, options with
        {
            NewState = h =>
            {
                lock (states)
                    if (!states.Add(h)) twice.Add(h);
            },
        });
        Assert.Empty(twice);
        return (result, states);
    }

    [Fact]
    public void ACleanSearchRunsEveryDepthAndCountsWhatItRan()
    {
        var (result, states) = Explore("direct", new ExploreOptions { Depth = 3 });

        Assert.True(result.Passed, result.Finding?.Finding.ToString() ?? result.ToolError);
        Assert.Equal(ExploreEnd.Depth, result.End);
        Assert.Equal(3, result.CleanDepth);
        Assert.Equal([1, 2, 3], result.Levels.Select(l => l.Depth));
        Assert.All(result.Levels, l => Assert.True(l.NewStates > 0, $"depth {l.Depth} found no new state"));
        // Every op run is one transition of some depth; every distinct state but the start was new at one.
        Assert.Equal(result.States, result.Levels.Sum(l => l.Transitions));
        Assert.Equal(result.Distinct, 1 + result.Levels.Sum(l => l.NewStates));
        Assert.Equal(result.Distinct, states.Count);
        // Depth 1 runs the starting state's whole alphabet, once each.
        Assert.Equal(result.InitialChoices, result.Levels[0].Transitions);
    }

    [Fact]
    public void DeduplicationReachesTheSameStatesWithFewerOps()
    {
        var options = new ExploreOptions { Depth = 3 };
        var (deduplicated, once) = Explore("k8-gart", options);
        var (every, all) = Explore("k8-gart", options with { Deduplicate = false });

        Assert.True(deduplicated.Passed && every.Passed);
        Assert.Equal(all, once);
        Assert.True(deduplicated.States < every.States, $"deduplicated {deduplicated.States} ops, every sequence {every.States}");
        // Without deduplication every sequence is its own node; with it, depth 2 on already
        // revisits states (two orders of two maps), and only the new ones are expanded.
        Assert.All(every.Levels, l => Assert.Equal(l.Transitions, l.NewStates));
        Assert.All(deduplicated.Levels.Skip(1), l => Assert.True(l.NewStates < l.Transitions, $"depth {l.Depth}: {l.NewStates} new of {l.Transitions}"));
        Assert.Equal(every.Levels[0].Transitions, deduplicated.Levels[0].Transitions);
    }

    [Fact]
    public void SymmetryCountsInterchangeableDevicesStatesAsOne()
    {
        // power-tce's two devices are configured alike (0 ≡ 1).
        var options = new ExploreOptions { Depth = 3 };
        var (symmetric, fewer) = Explore("power-tce", options);
        var (plain, more) = Explore("power-tce", options with { Symmetry = false });

        Assert.True(symmetric.Passed && plain.Passed);
        Assert.Equal([[0, 1]], symmetric.SymmetricDevices);
        Assert.Empty(plain.SymmetricDevices);
        Assert.True(fewer.Count < more.Count, $"{fewer.Count} distinct states with symmetry, {more.Count} without");
        Assert.True(symmetric.States < plain.States);
        // Renaming devices 0 and 1 maps each state onto its twin: without symmetry every state
        // but the symmetric ones comes in pairs, so the reduction is close to half.
        Assert.True(fewer.Count * 2 > more.Count, $"{fewer.Count} with symmetry is less than half of {more.Count}: more than twins were merged");
    }

    [Theory]
    [InlineData("k8-gart", 3, 1)]
    [InlineData("soc-vcm", 3, 2)]
    public void TheShardsOfASearchTogetherReachExactlyItsStates(string preset, int parts, int splitAt)
    {
        var options = new ExploreOptions { Depth = 3 };
        var (whole, all) = Explore(preset, options);
        var union = new HashSet<ulong>();
        var atSplit = new List<long>();
        for (int i = 0; i < parts; i++)
        {
            var (part, states) = Explore(preset, options with { Shard = new Shard(i, parts, splitAt) });
            Assert.True(part.Passed);
            Assert.Equal(ExploreEnd.Depth, part.End);
            union.UnionWith(states);
            atSplit.Add(part.Levels.Take(splitAt).Sum(l => l.NewStates));
        }

        Assert.True(whole.Passed);
        Assert.Equal(all.Count, union.Count);
        Assert.Subset(all, union);
        // Every part explores the depths up to the split in full.
        Assert.All(atSplit, n => Assert.Equal(whole.Levels.Take(splitAt).Sum(l => l.NewStates), n));
    }

    [Theory]
    [InlineData("soc-vcm")]
    [InlineData("power-tce")]
    public void WorkersSplitEachDepthAndReachTheSameStatesAsOne(string preset)
    {
        var options = new ExploreOptions { Depth = 3 };
        var (one, alone) = Explore(preset, options);
        var (three, together) = Explore(preset, options with { Workers = 3 });

        Assert.True(one.Passed && three.Passed);
        Assert.Equal(alone, together);
        Assert.Equal(one.Levels.Select(l => (l.Transitions, l.NewStates)), three.Levels.Select(l => (l.Transitions, l.NewStates)));

        // A finding is still a shortest one.
        var (found, _) = Explore("x86-vtd", new ExploreOptions { Depth = 4, Workers = 3 }, PlantedSystems.LastByteOffByOne);
        Assert.Equal(2, found.Finding?.Length);
        Assert.Equal(1, found.CleanDepth);
    }

    [Fact]
    public void AFindingIsAShortestSequenceAndEveryShorterOneRanClean()
    {
        var (result, _) = Explore("x86-vtd", new ExploreOptions { Depth = 4 }, PlantedSystems.LastByteOffByOne);

        Assert.Equal(ExploreEnd.Finding, result.End);
        var finding = result.Finding!;
        Assert.Equal(2, finding.Length);
        Assert.Equal(1, result.CleanDepth);
        Assert.Equal(FindingKind.Divergence, finding.Finding.Kind);
        Assert.IsType<Map>(finding.Scenario.Steps[0].Op);
        Assert.IsType<DeviceAccess>(finding.Scenario.Steps[1].Op);
        Assert.Empty(finding.FailedAllocations);
        // Depth 1 ran in full before the finding.
        Assert.Equal([1], result.Levels.Select(l => l.Depth));
    }

    [Fact]
    public void AFaultInjectionFindingNamesTheStepWhoseAllocationFailed()
    {
        OpKindNames.TryParse("map,unmap,fault", out var ops, out _);
        var (result, _) = Explore("x86-vtd", new ExploreOptions { Depth = 2, Ops = ops }, PlantedSystems.FailedMapKeepsMapping);

        Assert.Equal(ExploreEnd.Finding, result.End);
        var finding = result.Finding!;
        Assert.Equal(1, finding.Length);
        Assert.Equal("INV-15", finding.Finding.Invariant);
        Assert.Equal(new Dictionary<int, int> { [0] = 1 }, finding.FailedAllocations);

        // Without fault injection the same search is clean.
        OpKindNames.TryParse("map,unmap", out var noFaults, out _);
        Assert.True(Explore("x86-vtd", new ExploreOptions { Depth = 2, Ops = noFaults }, PlantedSystems.FailedMapKeepsMapping).Result.Passed);
    }

    [Fact]
    public void EveryOpModeJudgesEachStepsStatesBeforeAndAfter()
    {
        var planted = PlantedSystems.FailedOpMovesTheClock;
        OpKindNames.TryParse("map,unmap", out var ops, out _);
        var options = new ExploreOptions { Depth = 2, Ops = ops };

        var (every, _) = Explore("x86-vtd", options with { ImplementationState = ImplementationStateChecks.EveryOp }, planted);
        Assert.Equal(ExploreEnd.Finding, every.End);
        Assert.Equal("INV-15", every.Finding!.Finding.Invariant);
        Assert.Equal(1, every.Finding.Length);
        Assert.IsType<Failed>(every.Finding.Scenario.Steps[0].Expected);

        // The default judges states, where the change breaks no rule.
        Assert.True(Explore("x86-vtd", options, planted).Result.Passed);
    }

    [Fact]
    public void ABoundedRunSaysHowDeepItGotCleanAndIsNotAPass()
    {
        var (result, _) = Explore("x86-vtd", new ExploreOptions { Depth = 6, MaxStates = 200 });

        Assert.Equal(ExploreEnd.MaxStates, result.End);
        Assert.Null(result.Finding);
        Assert.True(result.CleanDepth < 6);
        Assert.Equal(result.CleanDepth, result.Levels.Count);
        Assert.Equal("incomplete", ExploreReport.ResultOf(result));
    }

    [Fact]
    public void AnImplementationThatAnswersAlikeStatesDifferentlyIsAToolErrorNotAFinding()
    {
        var flaky = Optimized with { Create = p => new AnswersDifferentlyAfterRestore(Optimized.Create(p)) };
        var (result, _) = Explore("direct", new ExploreOptions { Depth = 3 }, flaky);

        Assert.Equal(ExploreEnd.ToolError, result.End);
        Assert.Null(result.Finding);
        Assert.False(result.Passed);
        Assert.Contains("answers alike from alike states", result.ToolError);
        Assert.Equal("error", ExploreReport.ResultOf(result));
    }

    /// <summary>Counts its ops across restores (state the snapshot does not hold): the second
    /// time it runs an op it answers a map one page off, so rebuilding a state by running the
    /// op again gives another answer.</summary>
    private sealed class AnswersDifferentlyAfterRestore(ISystemUnderTest inner) : ISystemUnderTest
    {
        private readonly Dictionary<Op, int> _seen = [];
        public string Name => inner.Name;
        public Outcome Apply(Op op)
        {
            var outcome = inner.Apply(op);
            int times = _seen[op] = _seen.GetValueOrDefault(op) + 1;
            return times > 1 && outcome is Mapped m ? m with { Dma = new DmaAddr(m.Dma.Value + 0x1000) } : outcome;
        }
        public SystemState ExportState() => inner.ExportState();
        public void FailNthAllocation(int n) => inner.FailNthAllocation(n);
        public long AllocationAttempts => inner.AllocationAttempts;
        public SystemSnapshot Snapshot() => inner.Snapshot();
        public void Restore(SystemSnapshot snapshot) => inner.Restore(snapshot);
    }
}
