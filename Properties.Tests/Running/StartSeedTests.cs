using DmaVerify.Properties.Tests.Catalogue;

namespace DmaVerify.Properties.Tests.Running;

/// <summary>Runs start from a seed fixed by their name, so a failure in one `dotnet test` fails
/// again in the next; DMAVERIFY_SEED moves the start (reproducibly) or makes it random.</summary>
public class StartSeedTests
{
    [Fact]
    public void TheStartIsFixedByTheNameAndSaltedByTheSeed()
    {
        ulong a = PropertyEnvironment.SeedFor("refine/optimized/x86-vtd", 0);
        Assert.Equal(a, PropertyEnvironment.SeedFor("refine/optimized/x86-vtd", 0));
        Assert.NotEqual(a, PropertyEnvironment.SeedFor("refine/optimized/amd-vi", 0));
        Assert.NotEqual(a, PropertyEnvironment.SeedFor("refine/optimized/x86-vtd", 7));
        Assert.Equal(a, PropertyEnvironment.StartSeed("refine/optimized/x86-vtd", ignoreEnvironment: true));
    }

    [Fact]
    public void TwoRunsOfOneSpecDrawTheSameCases()
    {
        // A planted bug makes each run report the seed of its first failing case.
        var spec = PlantedBugs.Planting.Planted((PropertySpec)TestCatalogue.Default.Get("refine/optimized/x86-vtd"), "wrong-size-unmap-accepted");
        var options = new PropertyRunOptions { IgnoreEnvironment = true, WriteRegression = false, MaxShrinkRuns = 1 };
        var first = spec.Run(options);
        var second = spec.Run(options);
        Assert.False(first.Passed);
        Assert.Equal(first.Replay, second.Replay);
        Assert.Equal(first.TestsRun, second.TestsRun);
        var shifted = spec.Run(options with { StartSeed = PropertyEnvironment.SeedFor(spec.Name, 1) });
        Assert.NotEqual(first.Replay, shifted.Replay);
    }
}
