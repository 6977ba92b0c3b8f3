using DmaVerify.Cli.Composition;
using DmaVerify.Explore;

namespace DmaVerify.Tests.Explore;

/// <summary>
/// The JSON report and <c>--merge</c>: a report reads back as written, and a merge refuses
/// anything that is not every part of one search, once each; it adds up what the parts did.
/// </summary>
public sealed class ExploreReportTests
{
    private static ExploreReport ShardReport(int index, int count, int depth = 3, string preset = "k8-gart")
    {
        Assert.True(ExplorePlatform.TryCreate(preset, out var platform, out string error), error);
        var shard = new Shard(index, count, 1);
        var result = Explorer.Run(platform, Implementations.Registry.Default, new ExploreOptions { Depth = depth, Shard = shard });
        return Report(result, depth, shard);
    }

    private static ExploreReport Report(ExploreResult result, int depth, Shard? shard) => new()
    {
        Implementation = result.Implementation, Depth = depth, Ops = OpKindNames.Format(result.Ops), MaxLive = result.MaxLive,
        Symmetry = true, Deduplicate = true,
        Shard = shard is null ? null : new ExploreReport.ShardReport(shard.Index, shard.Count, shard.AtDepth),
        Presets = [ExploreReport.Of(result, null, null)],
    };

    [Fact]
    public void AReportReadsBackAsWritten()
    {
        var report = ShardReport(0, 2);
        var back = ExploreReport.FromJson(report.ToJson(), out string error);
        Assert.True(back is not null, error);
        Assert.Equal(report.ToJson(), back!.ToJson());
    }

    [Theory]
    [InlineData("", "not a verify explore report: ")]
    [InlineData("[1, 2]", "not a verify explore report: ")]
    [InlineData("{\"tool\": \"verify check\", \"format\": 1}", "not a verify explore report")]
    [InlineData("{\"tool\": \"verify explore\", \"format\": 99, \"implementation\": \"x\", \"depth\": 1, \"ops\": \"map\", \"maxLive\": 1, \"symmetry\": true, \"deduplicate\": true, \"presets\": []}", "report format 99; this verify reads format 1")]
    public void TextThatIsNotAReportIsRefusedWithTheReason(string text, string reason)
    {
        Assert.Null(ExploreReport.FromJson(text, out string error));
        Assert.StartsWith(reason, error);
        Assert.DoesNotContain("Path: $", error);
    }

    [Fact]
    public void TheMergeOfEveryPartAddsUpTheirWork()
    {
        var parts = new[] { ShardReport(0, 2), ShardReport(1, 2) };
        var merged = ExploreReport.Merge([("a.json", parts[0]), ("b.json", parts[1])], out string error);

        Assert.True(merged is not null, error);
        Assert.Null(merged!.Shard);
        Assert.Equal([0, 1], merged.MergedShards);
        var preset = Assert.Single(merged.Presets);
        Assert.Equal("clean", preset.Result);
        Assert.Equal(3, preset.CleanDepth);
        // Depth 1 (above the split) ran in both and counts once; deeper depths add up.
        Assert.Equal(parts[0].Presets[0].Levels[0], preset.Levels[0]);
        Assert.Equal(parts.Sum(p => p.Presets[0].Levels[2].States), preset.Levels[2].States);
        Assert.Equal(preset.Levels.Sum(l => l.States), preset.States);
    }

    [Fact]
    public void AMergeThatIsNotEveryPartOfOneSearchOnceIsRefused()
    {
        var (zero, one) = (ShardReport(0, 2), ShardReport(1, 2));
        Refused([("a", zero)], "shard 1/2 missing: every part is needed for a verdict");
        Refused([("a", zero), ("b", zero)], "shard 0/2 is given twice (a, b)");
        Refused([("a", zero), ("b", one with { Depth = 4 })], "b explored to depth 4, not 3");
        Refused([("a", zero), ("b", one with { Implementation = "linuxstyle" })], "b explored linuxstyle, not optimized");
        Refused([("a", zero), ("b", one with { Symmetry = false })], "b used other --ops, --max-live, symmetry or deduplication settings");
        Refused([("a", zero), ("b", one with { Shard = null })], "b is not a shard's report (run with --shard i/n)");
        Refused([("a", zero), ("b", one with { Shard = new ExploreReport.ShardReport(1, 3, 1) })], "b is shard 1/3 split at depth 1, not of 2 split at depth 1");
        Refused([], "nothing to merge");
    }

    private static void Refused(IReadOnlyList<(string, ExploreReport)> parts, string reason)
    {
        Assert.Null(ExploreReport.Merge(parts, out string error));
        Assert.Equal(reason, error);
    }
}
