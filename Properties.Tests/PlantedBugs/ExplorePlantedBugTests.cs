using DmaVerify.Explore;
using DmaVerify.Properties.Tests.Catalogue;
using Xunit.Abstractions;

namespace DmaVerify.Properties.Tests.PlantedBugs;

/// <summary>
/// Bounded-exhaustive search against the properties engine on the planted bugs: explore, at its
/// default depth on the preset of the property run that must find each bug, finds it too, with
/// a counterexample no longer than the one the properties engine shrank to (BFS gives a shortest
/// one by construction). And a bug that only five ops reach is found at depth 5, after depths
/// 1-4 ran clean.
/// </summary>
public class ExplorePlantedBugTests(ITestOutputHelper output)
{
    [Theory, MemberData(nameof(PlantedBugTests.BugsAndRuns), MemberType = typeof(PlantedBugTests))]
    public void FoundAtTheDefaultDepthNoLongerThanThePropertiesShrunkCase(string bug, string run)
    {
        var property = PlantedBugRuns.Result(bug, run, output);
        Assert.False(property.Passed, $"{run} did not find {bug}");
        string preset = ((PropertySpec)TestCatalogue.Default.Get(run)).Preset;
        Assert.True(ExplorePlatform.TryCreate(preset, out var platform, out string error), error);

        var result = Explorer.Run(platform, Planting.Implementation(bug), new ExploreOptions());

        Assert.True(result.Finding is not null, $"explore --preset {preset} did not find {bug} by depth {result.CleanDepth} ({result.End})");
        var found = result.Finding!;
        output.WriteLine($"| {bug} | {preset} | {property.ShrunkOps} | {found.Length} | {found.Finding.Kind} {found.Finding.Invariant} | {result.States} | {result.Seconds:F1} s |");
        output.WriteLine(Contracts.ScenarioPrinter.Print(found.Scenario));
        Assert.True(found.Length <= property.ShrunkOps,
            $"explore's counterexample has {found.Length} ops, the properties engine's shrunk one {property.ShrunkOps}");
        Assert.Equal(found.Length - 1, result.CleanDepth);
    }

    [Fact]
    public void ABugOnlyFiveOpsReachIsFoundAtDepthFiveAfterFourCleanDepths()
    {
        Assert.True(ExplorePlatform.TryCreate("k8-gart", out var platform, out string error), error);
        OpKindNames.TryParse("map,unmap,stale", out var ops, out _);

        var result = Explorer.Run(platform, Planting.Implementation("middle-unmap-keeps-translation"), new ExploreOptions { Ops = ops });

        Assert.Equal(ExploreEnd.Finding, result.End);
        Assert.Equal(5, result.Finding!.Length);
        Assert.Equal(4, result.CleanDepth);
        Assert.Equal([1, 2, 3, 4], result.Levels.Select(l => l.Depth));
        Assert.All(result.Levels, l => Assert.True(l.Transitions > 0));
        output.WriteLine(Contracts.ScenarioPrinter.Print(result.Finding.Scenario));

        // The same search on the real implementation is clean at depth 5.
        var clean = Explorer.Run(platform, Planting.Implementation("middle-unmap-keeps-translation") with
        {
            Create = DmaVerify.Cli.Composition.Implementations.Registry.Default.Create,
        }, new ExploreOptions { Ops = ops, Depth = 5 });
        Assert.Equal(ExploreEnd.Depth, clean.End);
    }

    /// <summary>A planted allocator whose cached node may point at a freed node cannot restore
    /// such a state (its snapshot finds the node by its first PFN, which is gone): that is the
    /// implementation failing, a finding, never an exception out of the search (it was one,
    /// and `verify check --plant all` reported the item as a tool crash).</summary>
    [Fact]
    public void AnImplementationWhoseRestoreThrowsIsAFindingNotAToolCrash()
    {
        Assert.True(ExplorePlatform.TryCreate("amd-vi", out var platform, out string error), error);

        var result = Explorer.Run(platform, Planting.Implementation("linux-cached32-kept-on-free"), new ExploreOptions { Depth = 3 });

        Assert.Equal(ExploreEnd.Finding, result.End);
        output.WriteLine($"{result.Finding!.Finding.Kind} {result.Finding.Finding.Invariant}: {result.Finding.Finding.Message}");
        output.WriteLine(Contracts.ScenarioPrinter.Print(result.Finding.Scenario));
    }
}
