using DmaVerify.Contracts;
using DmaVerify.Cli;
using DmaVerify.Cli.Text;
using DmaVerify.Cli.Verbs;
using DmaVerify.Fuzz.Decoding;
using DmaVerify.Fuzz.Targets;
using DmaVerify.Model;
using Xunit.Abstractions;

namespace DmaVerify.Tests.Fuzzing;

/// <summary>`verify fuzz` and `verify replay` of fuzz inputs, run in-process.</summary>
[Collection(CoverageMapCollection.Name)]
public sealed class FuzzCliTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dmaverify-fuzzcli-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = VerifyCli.Run(args, output, error);
        log.WriteLine($"verify {string.Join(" ", args)} -> {code}\n{output}\n{error}");
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void FuzzPrintsLibFuzzerStatusLinesAndFinalStats()
    {
        var (code, _, err) = Run("fuzz", Presets.Direct, Path.Combine(_dir, "c"), "-runs=300", "-seed=4", "-instrument_cache=" + Path.Combine(_dir, "cache"));
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("INFO: instrumented: ", err); // the target ran from instrumented copies
        Assert.DoesNotContain("instrumentation unavailable", err);
        Assert.Contains("INFO: Seed: 4", err);
        Assert.Matches(@"#\d+\tINITED cov: \d+ ft: \d+ corp: \d+/\d+b lim: 260 exec/s: \d+ rss: \d+Mb", err);
        Assert.Matches(@"#\d+\tNEW    cov: \d+ ft: \d+ corp: \d+/\d+b lim: 260 exec/s: \d+ rss: \d+Mb L: \d+/260 MS: \d ", err);
        Assert.Matches(@"#300\tDONE   cov: \d+", err);
        Assert.Contains("stat::number_of_executed_units: 300", err);
    }

    /// <summary>A crash of another implementation than the default names it in its replay line,
    /// and that line reproduces the finding (without --impl it replayed on optimized, clean).</summary>
    [Fact]
    public void ACrashOfAnotherImplementationReplaysOnIt()
    {
        var (code, _, err) = Run("fuzz", Presets.X86Vtd, Path.Combine(_dir, "w"), "-runs=5000", "-seed=1", "-no_instrument=1",
            "-impl=optimized+iova-limit-past-by-one", "-artifact_prefix=" + _dir + Path.DirectorySeparatorChar);
        Assert.Equal(ExitCodes.Failed, code);
        var replay = System.Text.RegularExpressions.Regex.Match(err, @"replay with: verify replay (\S+) --target x86-vtd --impl optimized\+iova-limit-past-by-one");
        Assert.True(replay.Success, err);
        var (again, output, _) = Run("replay", replay.Groups[1].Value, "--target", Presets.X86Vtd, "--impl", "optimized+iova-limit-past-by-one");
        Assert.Equal(ExitCodes.Failed, again);
        Assert.Contains("part at step", output);
    }

    [Theory]
    [InlineData("no-such-target")]
    [InlineData("direct", "-runs")]
    [InlineData("direct", "-runs=abc")]
    [InlineData("direct", "-bogus=1")]
    [InlineData("direct", "-impl=nope")]
    public void BadUsageExitsTwoWithAMessage(params string[] args)
    {
        var (code, _, err) = Run(["fuzz", .. args]);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.StartsWith("verify fuzz:", err.Split('\n').Last(l => l.Length > 0));
    }

    /// <summary>A crash file replays with where model and implementation part; with
    /// --save-regression it becomes a .scn in the text form that parses, runs the same ops
    /// on the model cleanly, and is named after the target and input.</summary>
    [Fact]
    public void ReplayShowsWhereModelAndImplementationPartAndSavesARegression()
    {
        // An input whose decoded ops the real implementation passes ...
        byte[] input = SeedCorpus.For(Presets.Direct)[0];
        string file = Path.Combine(_dir, "crash-input");
        File.WriteAllBytes(file, input);
        var (code, output, _) = Run("replay", file, "--target", Presets.Direct);
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("fuzz input of target direct", output);
        Assert.Contains("map dev=0", output);
        Assert.Contains("result: PASSED", output);

        // ... and one the planted off-by-a-page bug fails: replayed on a target over that system.
        var target = FuzzTargets.Create(Presets.Direct, p => new OffByAPageSystem(p));
        var bytes = new FuzzInputBuilder()
            .Add(new(OpKind.Map, Target: 0, Flags: 1, Size: FuzzInputBuilder.SizeOf(0x1000), Anchor: Low, Value: 0x8000))
            .Add(new(OpKind.Map, Target: 0, Flags: 1, Size: FuzzInputBuilder.SizeOf(0x3000), Anchor: Low, Value: 0x1000))
            .Add(new(OpKind.Unmap, Target: 0, Flags: 1)).ToArray();
        string regressions = Path.Combine(_dir, "regressions");
        var replayOutput = new StringWriter();
        code = FuzzInputReplay.Run("crash-planted", bytes, target, "off-by-a-page", regressions, replayOutput, ScenarioTextForm.Current);
        log.WriteLine(replayOutput.ToString());
        Assert.Equal(ExitCodes.Failed, code);
        Assert.Contains("model and off-by-a-page part at step 1: Divergence", replayOutput.ToString());
        string saved = Directory.EnumerateFiles(regressions, "direct-*.scn").Single();
        var parsed = ScenarioParser.ParseFile(saved);
        Assert.True(parsed.IsSuccess, parsed.ErrorText);
        Assert.Equal(2, parsed.Scenario!.Steps.Count); // the ops up to the finding
        Assert.Equal(ReplayStatus.Passed, ScenarioRunner.Run(parsed.Scenario).Status); // the model's outcomes were recorded
        Assert.All(parsed.Scenario.Steps, s => Assert.NotNull(s.Expected));

        // A passing input is no regression.
        (code, _, _) = Run("replay", file, "--target", Presets.Direct, "--save-regression", "--regression-dir", Path.Combine(_dir, "none"));
        Assert.Equal(ExitCodes.Ok, code);
        Assert.False(Directory.Exists(Path.Combine(_dir, "none")));
    }

    private static byte Low => FuzzInputBuilder.AnchorOf(PresetCatalog.Get(Presets.Direct).Anchors, 0x10_0000);

    [Fact]
    public void ReplayGuessesTheTargetFromTheCorpusFolderAndKeepsScenarioFilesFirst()
    {
        string folder = Path.Combine(_dir, Presets.K8Gart);
        Directory.CreateDirectory(folder);
        string file = Path.Combine(folder, "seed");
        File.WriteAllBytes(file, SeedCorpus.For(Presets.K8Gart)[0]);
        var (code, output, _) = Run("replay", file);
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("fuzz input of target k8-gart", output);

        string scn = Path.Combine(folder, "plain.scn");
        File.WriteAllText(scn, "preset k8-gart\nmap dev=0 phys=0x10000000 len=0x1000 dir=to_device\n");
        (code, output, _) = Run("replay", scn);
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("replay " + scn + ": preset k8-gart, 1 step", output);

        string binary = Path.Combine(_dir, "crash-unknown");
        File.WriteAllBytes(binary, [0xFF, 0x00, 0x13]);
        var (badCode, _, err) = Run("replay", binary);
        Assert.Equal(ExitCodes.BadInput, badCode);
        Assert.Contains("--target", err);
    }
}
