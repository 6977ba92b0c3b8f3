using DmaVerify.Properties.Tests.Catalogue;
using DmaVerify.Properties.Tests.Support;
using Xunit.Abstractions;

namespace DmaVerify.Properties.Tests.PlantedBugs;

/// <summary>A replay line from a failure message reproduces the failure exactly: the same
/// generated case, the same finding, the same shrunk ops, in one case.</summary>
public class ReplayTests(ITestOutputHelper output)
{
    [Fact]
    public void TheReplayLineReproducesTheFailureExactly()
    {
        var spec = Planting.Planted((PropertySpec)TestCatalogue.Default.Get("refine/optimized/x86-vtd"), "wrong-size-unmap-accepted");
        var options = PlantedBugTests.Quiet(output) with { MaxShrinkRuns = 200 };
        var first = spec.Run(options);
        Assert.False(first.Passed);
        Assert.NotNull(first.Replay);
        Assert.Contains($"DMAVERIFY_REPLAY=\"{first.Replay}\"", first.Report());

        Assert.True(ReplaySeed.TryParse(first.Replay!.ToString(), out var parsed, out string error), error);
        var again = spec.Run(options with { Replay = parsed });
        Assert.False(again.Passed);
        Assert.Equal(1, again.TestsRun);
        Assert.Equal(first.OriginalScenario, again.OriginalScenario);
        Assert.Equal(first.Finding, again.Finding);
        Assert.Equal(first.ShrunkScenario, again.ShrunkScenario);
    }

    [Theory]
    [InlineData("1,2")]
    [InlineData("x,3")]
    [InlineData("1")]
    [InlineData("1,3,-4")]
    public void AMalformedReplayValueIsRefusedWithItsReason(string text)
    {
        Assert.False(ReplaySeed.TryParse(text, out _, out string error));
        Assert.Contains(text, error);
    }

    [Fact]
    public void ReplayValuesRoundTrip()
    {
        Assert.True(ReplaySeed.TryParse("(12345,678901,37)", out var r, out _));
        Assert.Equal(new ReplaySeed(12345, 678901, 37), r);
        Assert.Equal("12345,678901,37", r!.ToString());
    }
}
