using System.Diagnostics;
using DmaVerify.Contracts;
using DmaVerify.Fuzz.Engine;
using DmaVerify.Fuzz.Mutation;
using DmaVerify.Fuzz.Targets;
using DmaVerify.Harness;
using DmaVerify.Model;
using Xunit.Abstractions;
using DmaVerify.Cli.Composition;

namespace DmaVerify.Tests.Fuzzing;

[Collection(CoverageMapCollection.Name)]
public sealed class FuzzEngineTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dmaverify-fuzz-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string Folder(string name) => Path.Combine(_dir, name);

    private static FuzzOptions Options(string flags) =>
        FuzzOptions.TryParse(flags.Split(' ', StringSplitOptions.RemoveEmptyEntries), out var o, out string e) ? o : throw new ArgumentException(e);

    private FuzzResult Fuzz(IFuzzTarget target, string flags, params string[] folders)
    {
        var output = new StringWriter();
        var result = new FuzzEngine(target, Options(flags), FuzzDictionary.ForTarget(target.Name), output).Run(folders);
        log.WriteLine(string.Join("\n", output.ToString().Split('\n').Where(l => !l.Contains("\tNEW "))));
        return result;
    }

    private static string[] CorpusNames(string folder) =>
        Directory.EnumerateFiles(folder).Select(Path.GetFileName).Where(n => !n!.StartsWith('.')).Order(StringComparer.Ordinal).ToArray()!;

    /// <summary>An input that takes 20 ms: a second holds about 50 of them.</summary>
    private sealed class Slow : IFuzzTarget
    {
        public string Name => "slow";
        public void Run(ReadOnlySpan<byte> data) => Thread.Sleep(20);
    }

    /// <summary>-max_total_time stops a run; with MinRuns (what `verify check` sets) only once
    /// that many inputs ran, so a starved machine cannot pass an item on a handful of inputs.</summary>
    [Fact]
    public void TheTimeLimitWaitsForTheMinimumInputs()
    {
        var output = new StringWriter();
        var timed = new FuzzEngine(new Slow(), Options("-max_total_time=1 -seed=1 -reload=0"), FuzzDictionary.ForTarget("mixed"), output).Run([Folder("timed")]);
        Assert.InRange(timed.Runs, 1, 99);
        var floored = new FuzzEngine(new Slow(), Options("-max_total_time=1 -seed=1 -reload=0") with { MinRuns = 100 }, FuzzDictionary.ForTarget("mixed"), output).Run([Folder("floored")]);
        Assert.InRange(floored.Runs, 100, 101);
    }

    /// <summary>Same seed, same run count: the same corpus files and the same statistics.</summary>
    [Fact]
    public void FixedSeedRunsAreReproducible()
    {
        var first = Fuzz(FuzzTargets.Create(Presets.Direct, Implementations.Registry), "-runs=3000 -seed=11 -reload=0", Folder("a"));
        var second = Fuzz(FuzzTargets.Create(Presets.Direct, Implementations.Registry), "-runs=3000 -seed=11 -reload=0", Folder("b"));
        Assert.Equal(0, first.ExitCode);
        Assert.True(first.NewUnits > 5, $"only {first.NewUnits} new units");
        Assert.Equal((first.Runs, first.NewUnits, first.CorpusUnits, first.Edges, first.Features),
                     (second.Runs, second.NewUnits, second.CorpusUnits, second.Edges, second.Features));
        Assert.Equal(CorpusNames(Folder("a")), CorpusNames(Folder("b")));
        var third = Fuzz(FuzzTargets.Create(Presets.Direct, Implementations.Registry), "-runs=3000 -seed=12 -reload=0", Folder("c"));
        Assert.NotEqual(CorpusNames(Folder("a")), CorpusNames(Folder("c")));
        _ = third;
    }

    /// <summary>Corpus files are named by the SHA-1 of their bytes.</summary>
    [Fact]
    public void CorpusFilesAreNamedBySha1()
    {
        Fuzz(FuzzTargets.Create(Presets.ArmSmmu, Implementations.Registry), "-runs=500 -seed=2", Folder("c"));
        var names = CorpusNames(Folder("c"));
        Assert.NotEmpty(names);
        foreach (string name in names)
            Assert.Equal(name, AtomicFile.Sha1Hex(File.ReadAllBytes(Path.Combine(Folder("c"), name))));
    }

    /// <summary>The target's oracle catches a planted implementation bug: the engine finds it,
    /// writes crash-SHA1, and that file fails the same way when run again; crash minimisation
    /// keeps the failure and does not grow the input.</summary>
    [Fact]
    public void FindsAPlantedImplementationBugAndMinimisesIt()
    {
        var target = FuzzTargets.Create(Presets.Direct, p => new OffByAPageSystem(p));
        var result = Fuzz(target, $"-runs=200000 -seed=5 -artifact_prefix={_dir}/", Folder("corpus"));
        Assert.Equal(1, result.ExitCode);
        Assert.NotNull(result.ArtifactPath);
        Assert.StartsWith(Path.Combine(_dir, "crash-"), result.ArtifactPath);
        var finding = Assert.Throws<FuzzFinding>(() => target.Run(File.ReadAllBytes(result.ArtifactPath!)));
        Assert.Equal(FindingKind.Divergence, finding.Finding.Kind);
        Assert.Contains(finding.Scenario.Steps, s => s.Op is Map { Length: 0x3000 });

        var output = new StringWriter();
        int exit = CrashMinimizer.Run(target, result.ArtifactPath!, Options($"-runs=3000 -seed=1 -artifact_prefix={_dir}/"), FuzzDictionary.ForTarget("direct"), output);
        log.WriteLine(output.ToString());
        Assert.Equal(0, exit);
        string minimized = Directory.EnumerateFiles(_dir, "minimized-from-*").Single();
        Assert.True(new FileInfo(minimized).Length <= new FileInfo(result.ArtifactPath!).Length);
        var again = Assert.Throws<FuzzFinding>(() => target.Run(File.ReadAllBytes(minimized)));
        Assert.Equal(finding.Signature, again.Signature);
    }

    /// <summary>Coverage guidance pays: the five-condition bug is found with coverage on, and
    /// not within the same number of executions with coverage off. Times go to the test log.</summary>
    [Fact]
    public void CoverageGuidanceFindsTheDeepBugAndBlindFuzzingDoesNot()
    {
        const int budget = 800_000;
        var clock = Stopwatch.StartNew();
        var guided = Fuzz(new PlantedChainTarget(), $"-runs={budget} -seed=1 -max_len=84 -reload=0 -artifact_prefix={_dir}/", Folder("on"));
        var guidedTime = clock.Elapsed;
        clock.Restart();
        var blind = Fuzz(new PlantedChainTarget(), $"-runs={budget} -seed=1 -max_len=84 -reload=0 -use_coverage=0 -artifact_prefix={_dir}/blind-", Folder("off"));
        var blindTime = clock.Elapsed;
        log.WriteLine($"coverage on: found after {guided.Runs} runs in {guidedTime.TotalSeconds:F2} s; coverage off: {(blind.Crash is null ? "not found" : "found")} in {blind.Runs} runs, {blindTime.TotalSeconds:F2} s");
        Assert.IsType<PlantedChainBug>(guided.Crash);
        Assert.True(guided.Runs < budget);
        Assert.Null(blind.Crash);
        Assert.Equal(budget, blind.Runs);
    }

    /// <summary>-merge=1 adds to the first folder only the inputs of the others that bring new
    /// coverage.</summary>
    [Fact]
    public void MergeKeepsOnlyInputsWithNewCoverage()
    {
        Fuzz(FuzzTargets.Create(Presets.K8Gart, Implementations.Registry), "-runs=1500 -seed=3 -reload=0", Folder("big"));
        int before = CorpusNames(Folder("big")).Length;
        // Every input twice over: duplicates under other names bring nothing.
        Directory.CreateDirectory(Folder("dup"));
        foreach (string name in CorpusNames(Folder("big")))
            File.Copy(Path.Combine(Folder("big"), name), Path.Combine(Folder("dup"), "copy-" + name));
        var output = new StringWriter();
        Assert.Equal(0, CorpusMerger.Run(FuzzTargets.Create(Presets.K8Gart, Implementations.Registry), [Folder("merged"), Folder("big"), Folder("dup")], output));
        log.WriteLine(output.ToString());
        int merged = CorpusNames(Folder("merged")).Length;
        Assert.InRange(merged, 1, before);
    }
}
