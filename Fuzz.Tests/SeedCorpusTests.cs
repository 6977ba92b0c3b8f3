using DmaVerify.Fuzz.Engine;
using DmaVerify.Fuzz.Targets;
using DmaVerify.Cli.Composition;

namespace DmaVerify.Tests.Fuzzing;

/// <summary>
/// corpus/&lt;target&gt;/ holds exactly the seeds <see cref="SeedCorpus"/> generates. To regenerate
/// after changing the generator: <c>DMAVERIFY_WRITE_SEEDS=1 dotnet test --filter SeedCorpusTests</c>.
/// </summary>
[Collection(CoverageMapCollection.Name)]
public class SeedCorpusTests
{
    public static TheoryData<string> Targets() => [.. FuzzTargets.Names];

    [Fact]
    public void RegenerateSeedsWhenAsked()
    {
        if (Environment.GetEnvironmentVariable("DMAVERIFY_WRITE_SEEDS") != "1") return;
        SeedCorpus.Write(Path.Combine(Repo.Root, "corpus"));
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void CommittedSeedsAreTheGeneratedOnes(string target)
    {
        string folder = Path.Combine(Repo.Root, "corpus", target);
        Assert.True(Directory.Exists(folder), $"{folder} is missing; run with DMAVERIFY_WRITE_SEEDS=1");
        var expected = SeedCorpus.For(target).Select(s => AtomicFile.Sha1Hex(s)).Order(StringComparer.Ordinal);
        var actual = Directory.EnumerateFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(expected, actual);
    }

    /// <summary>Seeds are starting points, not findings: each runs clean on its target.</summary>
    [Theory]
    [MemberData(nameof(Targets))]
    public void SeedsRunCleanAgainstTheOptimizedImplementation(string target)
    {
        var fuzzTarget = FuzzTargets.Create(target, Implementations.Registry);
        foreach (var seed in SeedCorpus.For(target))
            fuzzTarget.Run(seed);
    }
}
