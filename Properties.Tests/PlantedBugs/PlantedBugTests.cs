using System.Collections.Concurrent;
using DmaVerify.Properties.Tests.Catalogue;
using DmaVerify.Properties.Tests.Support;
using Xunit.Abstractions;

namespace DmaVerify.Properties.Tests.PlantedBugs;

/// <summary>
/// The suite catches planted bugs: each decorator over the real optimized implementation is
/// found by a catalogue run at its default budget and shrunk to at most 8 ops.
/// </summary>
public class PlantedBugTests(ITestOutputHelper output)
{
    public const int MaxShrunkOps = 8;

    /// <summary>Each bug with the default run that must find it.</summary>
    public static TheoryData<string, string> BugsAndRuns() => new()
    {
        { "dma-limit-off-by-one", "refine/optimized/direct" },
        { "iova-in-msi-window", "refine/optimized/x86-vtd" },
        { "missing-unmap-invalidation", "refine/optimized/amd-vi" },
        { "sg-merge-across-boundary", "refine/optimized/x86-vtd" },
        { "superpage-on-unaligned-phys", "refine/optimized/x86-vtd" },
        { "wrong-size-unmap-accepted", "refine/optimized/x86-vtd" },
    };

    public static PropertyRunOptions Quiet(ITestOutputHelper output) => TestLog.Options(output) with
    {
        IgnoreEnvironment = true,
        RegressionDirectory = Path.Combine(Path.GetTempPath(), "dmaverify-planted-bugs"),
    };

    [Theory, MemberData(nameof(BugsAndRuns))]
    public void FoundByTheDefaultRunAndShrunk(string bug, string run)
    {
        var result = PlantedBugRuns.Result(bug, run, output);
        Assert.False(result.Passed, $"{run} did not find {bug} in {result.TestsRun} cases");
        Assert.True(result.ShrunkOps <= MaxShrunkOps, $"{bug} shrunk only to {result.ShrunkOps} ops:\n{result.Report()}");
        Assert.True(File.Exists(result.RegressionPath), $"no regression file at {result.RegressionPath}");
    }
}

/// <summary>Each planted bug's default property run, made once per test run and shared by the
/// tests that need its result (the properties' own test and the comparison with explore).</summary>
public static class PlantedBugRuns
{
    private static readonly ConcurrentDictionary<(string Bug, string Run), Lazy<PropertyResult>> Runs = new();

    public static PropertyResult Result(string bug, string run, ITestOutputHelper output) =>
        Runs.GetOrAdd((bug, run), key => new Lazy<PropertyResult>(() =>
            Planting.Planted((PropertySpec)TestCatalogue.Default.Get(key.Run), key.Bug).Run(PlantedBugTests.Quiet(output)))).Value;
}
