using System.Text.Json;
using DmaVerify.Cli.Check;
using DmaVerify.Cli.Composition;
using DmaVerify.Cli.Text;
using DmaVerify.Cli;
using DmaVerify.Cli.Verbs;

namespace DmaVerify.Tests.CliCheck;

/// <summary>
/// `verify check --plant NAME`: the check runs against a planted bug in place of the real
/// implementations, only with the items that run an implementation, and fails; an unknown name
/// is refused with the known ones. The small always-on sample of the catalog: one bug each for
/// the property engine, the instrumented fuzzer and the corpus (the full matrix is
/// `verify check --plant all`, docs/planted-bugs.md).
/// </summary>
[Collection(CoverageMapCollection.Name)]
public sealed class PlantedCheckTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "dmaverify-plant-" + Guid.NewGuid().ToString("N"));

    public PlantedCheckTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private (int Code, string Out, string Err) Check(CheckRequest request)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var environment = new CheckEnvironment(Implementations.Registry, CheckVerb.FindCorpus() ?? Corpus(), _dir);
        int code = CheckVerb.Run(request, output, error, ScenarioTextForm.Current, environment);
        return (code, output.ToString(), error.ToString());
    }

    private static string Corpus() => Path.Combine(Repo.Root, "corpus");

    private static CheckRequest Quick(string plant, string engine, string target) =>
        new(CheckLevel.Quick, 1, null, false, null, [engine], [target], Corpus(), plant);

    [Theory]
    [InlineData("iova-limit-past-by-one", "props:refine", "x86-vtd")]
    [InlineData("flush-queue-releases-unflushed", "props:refine", "x86-vtd")]
    [InlineData("gart-pte-high-address-bits-lost", "props:refine", "k8-gart")]
    [InlineData("linux-align-mask-halved", "corpus", "soc-vcm")]
    [InlineData("iova-limit-past-by-one", "fuzz", "x86-vtd")]
    public void APlantedBugFailsTheCheck(string bug, string engine, string target)
    {
        var (code, output, _) = Check(Quick(bug, engine, target));
        Assert.True(code == 1, output);
        Assert.Contains($"planted: ", output);
        Assert.Contains("check: FAILED", output);
        Assert.Matches(@"replay: verify replay \S+ (--target \S+ )?--impl \S+\+" + bug, output);
    }

    [Fact]
    public void OnlyItemsThatRunAnImplementationRun()
    {
        var (_, output, _) = Check(new CheckRequest(CheckLevel.Quick, 1, null, true, null, ["corpus", "props:invariants"], ["x86-vtd"], Corpus(), "double-unmap-not-tracked"));
        using var json = JsonDocument.Parse(output);
        var names = json.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("name").GetString()!).ToList();
        Assert.Contains("corpus/optimized+double-unmap-not-tracked/x86-vtd", names);
        Assert.Contains("invariants/optimized+double-unmap-not-tracked/x86-vtd", names);
        Assert.DoesNotContain(names, n => n.Contains("/model/", StringComparison.Ordinal));
    }

    [Fact]
    public void AnUnknownBugIsRefusedWithTheKnownNames()
    {
        var (code, _, err) = Check(Quick("no-such-bug", "corpus", "x86-vtd"));
        Assert.Equal(2, code);
        Assert.Contains("--plant no-such-bug: no planted bug 'no-such-bug'; known: iova-limit-past-by-one", err);
    }

    [Fact]
    public void TheReplayCommandOfAPlantedFindingReplaysIt()
    {
        var (_, output, _) = Check(Quick("iova-limit-past-by-one", "props:refine", "x86-vtd"));
        var replay = System.Text.RegularExpressions.Regex.Match(output, @"replay: verify replay (\S+) --impl (\S+)");
        var found = System.Text.RegularExpressions.Regex.Match(output, @"x86-vtd: (INV-\d+) \((\w+)\)");
        Assert.True(replay.Success && found.Success, output);
        var cli = new StringWriter();
        int code = VerifyCli.Run(["replay", replay.Groups[1].Value, "--impl", replay.Groups[2].Value], cli, new StringWriter());
        // The replay meets the finding the check reported: the same rule, the same kind.
        string same = $"{found.Groups[2].Value} {found.Groups[1].Value}";
        Assert.True(code == 1 && cli.ToString().Contains(same, StringComparison.Ordinal), $"exit {code}, expected \"{same}\":\n{cli}\nof the check's finding:\n{output}");
    }
}
