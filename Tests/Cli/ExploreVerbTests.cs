using System.Text.Json;
using System.Text.RegularExpressions;
using DmaVerify.Cli;
using DmaVerify.Cli.Text;
using DmaVerify.Cli.Verbs;
using DmaVerify.Harness;
using DmaVerify.Tests.Explore;
using DmaVerify.Tests.Support;

namespace DmaVerify.Tests.Cli;

/// <summary>
/// `verify explore` in-process: a clean run and its table, bad input (one line, exit 2, nothing
/// run or written), the parts of a sharded run and their merge, and a finding whose printed
/// `verify replay` line, run, fails the same way (a bug planted through the registry, and an
/// allocator planted through --allocator).
/// </summary>
public sealed partial class ExploreVerbTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dmaverify-explore-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string Artifacts => Path.Combine(_dir, "artifacts");

    private static (int Code, string Out, string Err) Verify(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = VerifyCli.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void ACleanRunPrintsItsTableAndExitsZero()
    {
        var (code, output, error) = Verify("explore", "--preset", "direct", "--preset", "k8-gart", "--depth", "3", "--artifacts", Artifacts);

        Assert.True(code == ExitCodes.Ok, output + error);
        Assert.Contains("direct: every sequence of up to 3 ops ran clean", output);
        Assert.Matches(@"(?m)^preset\s+depth\s+clean to\s+states\s+distinct\s+states/s\s+seconds\s+memory\s+result$", output);
        Assert.Matches(@"(?m)^direct\s+3\s+3\s+[\d,]+\s+[\d,]+\s+[\d,]+\s+[\d.]+\s+\d+ MiB\s+clean$", output);
        Assert.Matches(@"(?m)^k8-gart\s+3\s+3\s+[\d,]+\s+[\d,]+\s+[\d,]+\s+[\d.]+\s+\d+ MiB\s+clean$", output);
        Assert.Matches(@"(?m)^states/s: [\d,]+ \(slowest preset: (direct|k8-gart)\)$", output);
        Assert.False(Directory.Exists(Artifacts), "a clean run wrote a counterexample folder");
    }

    [Fact]
    public void TheJsonReportNamesEachPresetsVerdictAndLevels()
    {
        var (code, output, error) = Verify("explore", "--preset", "direct", "--depth", "2", "--json", "--artifacts", Artifacts);

        Assert.True(code == ExitCodes.Ok, error);
        Assert.Contains("explore direct: depth 2", error); // the log goes to stderr, the JSON alone to stdout
        var report = ExploreReport(output);
        Assert.Equal(2, report.Depth);
        var preset = Assert.Single(report.Presets);
        Assert.Equal(("direct", "clean", 2), (preset.Preset, preset.Result, preset.CleanDepth));
        Assert.Equal([1, 2], preset.Levels.Select(l => l.Depth));
    }

    private static DmaVerify.Explore.ExploreReport ExploreReport(string json) =>
        DmaVerify.Explore.ExploreReport.FromJson(json, out string error) ?? throw new Xunit.Sdk.XunitException(error);

    public static TheoryData<string, string> BadInput() => new()
    {
        { "--preset nope --depth 2", "verify explore: --preset nope: unknown preset 'nope'; known: x86-vtd, " },
        { "--preset direct --depth 0", "verify explore: --depth 0: give 1 to 64" },
        { "--preset direct --depth -3", "verify explore: --depth -3: give 1 to 64" },
        { "--preset direct --depth 2 --shard 3/2", "verify explore: --shard: '3/2' is not i/n with 0 <= i < n (e.g. 0/4)" },
        { "--preset direct --depth 2 --shard x", "verify explore: --shard: 'x' is not i/n with 0 <= i < n (e.g. 0/4)" },
        { "--preset direct --depth 1 --shard 0/2", "verify explore: --shard 0/2: needs --depth 2 or more" },
        { "--preset direct --depth 3 --shard 0/2 --shard-depth 3", "verify explore: --shard-depth 3: the split must be above 0 and below --depth 3" },
        { "--preset direct --depth 3 --shard-depth 1", "verify explore: --shard-depth 1: needs --shard i/n" },
        { "--merge {dir}/no-such.json", "verify explore: --merge {dir}/no-such.json: no such file" },
        { "--merge {dir}/malformed.json", "verify explore: --merge {dir}/malformed.json: not a verify explore report: " },
        { "--merge {dir}/clean.json", "verify explore: --merge: {dir}/clean.json is not a shard's report (run with --shard i/n)" },
        { "--merge {dir}/clean.json --preset direct", "verify: --merge joins reports; it cannot be used with --preset, --all or --shard." },
        { "--preset direct --all --depth 2", "verify: --preset and --all cannot be used together; pick one." },
        { "--preset direct --depth 2 --artifacts {dir}/a-file", "verify explore: --artifacts {dir}/a-file: it is a file, not a folder; nothing was run" },
        { "--preset direct --depth 2 --artifacts /proc/nope/x", "verify explore: --artifacts /proc/nope/x: cannot create files in /proc" },
        { "--preset direct --depth 2 --ops map,nonsense", "verify explore: --ops: unknown op kind 'nonsense'; known: default, all, map," },
        { "--preset direct --depth 2 --impl nope", "verify explore: --impl: unknown implementation 'nope'; known: " },
        { "--preset direct --depth 2 --time-limit 0", "verify explore: --time-limit 0: give a number of seconds above 0" },
        { "--preset direct --depth 2 --impl-state sometimes", "verify explore: --impl-state sometimes: give new, every or none" },
        { "--depth 2", "verify explore: name a preset with --preset P (repeatable) or use --all" },
        { "--preset direct --depth 2 --workers 0", "verify explore: --workers 0: give 1 to 256" },
        { "--preset", "verify: Required argument missing for option: '--preset'." },
        { "--merge", "verify: Required argument missing for option: '--merge'." },
    };

    [Theory]
    [MemberData(nameof(BadInput))]
    public void BadInputIsOneLineNamingWhatAndExitTwoWithNothingRun(string arguments, string answer)
    {
        File.WriteAllText(Path.Combine(_dir, "a-file"), "x\n");
        File.WriteAllText(Path.Combine(_dir, "malformed.json"), "{\"tool\": \"verify explore\", \"presets\": [");
        var (_, clean, _) = Verify("explore", "--preset", "direct", "--depth", "1", "--json", "--artifacts", Artifacts);
        File.WriteAllText(Path.Combine(_dir, "clean.json"), clean);

        var (code, output, error) = Verify(["explore", .. arguments.Replace("{dir}", _dir).Split(' ')]);

        Assert.True(code == ExitCodes.BadInput, $"exit {code}\n{output}{error}");
        Assert.StartsWith(answer.Replace("{dir}", _dir), error);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("Run 'verify --help'", StringComparison.Ordinal)).ToList();
        Assert.True(lines.Count == 1, error);
        Assert.Equal("", output);
        Assert.False(Directory.Exists(Artifacts), "bad input left a counterexample folder");
    }

    [Fact]
    public void TheShardsOfARunCoverItsDepthsAndTheirMergeGivesItsVerdict()
    {
        string[] run = ["explore", "--preset", "soc-vcm", "--depth", "3", "--json", "--artifacts", Artifacts];
        var (code, whole, error) = Verify(run);
        Assert.True(code == ExitCodes.Ok, error);
        var parts = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            (code, string part, error) = Verify([.. run, "--shard", $"{i}/3"]);
            Assert.True(code == ExitCodes.Ok, error);
            Assert.Contains($"shard {i}/3 split at depth 2", error);
            string file = Path.Combine(_dir, $"part{i}.json");
            File.WriteAllText(file, part);
            parts.Add(file);
        }

        (code, string merged, error) = Verify(["explore", "--merge", .. parts]);
        Assert.True(code == ExitCodes.Ok, merged + error);
        Assert.Contains("merged 3 shards of verify explore to depth 3 (optimized, ops default)", merged);
        Assert.Matches(@"(?m)^soc-vcm\s+3\s+3\s+[\d,]+\s+[\d,]+\s+[\d,]+\s+[\d.]+\s+\d+ MiB\s+clean$", merged);

        (code, string json, _) = Verify(["explore", "--merge", .. parts, "--json"]);
        Assert.Equal(ExitCodes.Ok, code);
        var all = ExploreReport(whole).Presets[0];
        var joined = ExploreReport(json).Presets[0];
        Assert.Equal((all.Result, all.CleanDepth), (joined.Result, joined.CleanDepth));
        // Depths up to the split are the whole run's; below it the parts run at least the whole
        // run's ops (a state reached from two parts is expanded in each).
        Assert.Equal(all.Levels.Take(2).Select(l => (l.Depth, l.States, l.NewStates)), joined.Levels.Take(2).Select(l => (l.Depth, l.States, l.NewStates)));
        Assert.True(joined.Levels[2].States >= all.Levels[2].States, $"the parts ran {joined.Levels[2].States} ops at depth 3, the whole run {all.Levels[2].States}");
        Assert.True(joined.Distinct >= all.Distinct);

        // A part missing is no verdict.
        (code, _, error) = Verify(["explore", "--merge", parts[0], parts[2]]);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Equal("verify explore: --merge: shard 1/3 missing: every part is needed for a verdict\n", error);
    }

    /// <summary>The words of a printed replay line (single quotes as a shell reads them).</summary>
    private static List<string> Words(string line) =>
        [.. Regex.Matches(line, "'([^']*)'|(\\S+)").Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value)];

    [GeneratedRegex(@"replay: (verify replay .+)$", RegexOptions.Multiline)]
    private static partial Regex ReplayLine();

    /// <summary>Runs the planted explore through the verb with a registry holding the planted
    /// implementation, and returns its replay line's words after "verify replay".</summary>
    private (string Output, List<string> Replay) FindWithPlanted(Implementation planted, params string[] arguments)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var request = new ExploreRequest { Presets = ["x86-vtd"], Artifacts = Artifacts, Depth = int.Parse(arguments[0]), Ops = arguments.Length > 1 ? arguments[1] : null };
        int code = ExploreVerb.Run(request, output, error, registry: PlantedSystems.Registry(planted));
        string text = output.ToString();
        Assert.True(code == ExitCodes.Failed, $"exit {code}\n{text}{error}");
        var line = ReplayLine().Match(text);
        Assert.True(line.Success, text);
        var words = Words(line.Groups[1].Value);
        Assert.Equal(["verify", "replay"], words.Take(2));
        return (text, words.Skip(2).ToList());
    }

    /// <summary>`verify replay FILE --impl NAME [--fail-alloc S:N]...` as the CLI runs it, with
    /// the registry of the planted implementation.</summary>
    private static (int Code, string Output) Replay(List<string> words, Implementation planted)
    {
        string file = words[0];
        Assert.Equal("--impl", words[1]);
        var faults = new Dictionary<int, int>();
        for (int i = 3; i < words.Count; i += 2)
        {
            Assert.Equal("--fail-alloc", words[i]);
            var spec = words[i + 1].Split(':');
            faults[int.Parse(spec[0])] = int.Parse(spec[1]);
        }
        var output = new StringWriter();
        int code = ScenarioRefinementReplay.Run(file, words[2], output, new StringWriter(), ScenarioTextForm.Current, PlantedSystems.Registry(planted), faults);
        return (code, output.ToString());
    }

    [Fact]
    public void ThreadsFindThePlantedRaceAndPrintHowToFindItAgain()
    {
        var (code, output, error) = Verify("explore", "--preset", "x86-vtd", "--threads", "2", "--impl", "optimized+check-then-act-unmap");
        Assert.True(code == ExitCodes.Failed, output + error);
        Assert.Contains("x86-vtd: FAIL Divergence LINEARIZABILITY after", output);
        Assert.Matches(@"(?m)^  thread 1  unmap dev=0 handle=#0 len=0x1000 dir=bidirectional$", output);
        Assert.Contains("  find it again: verify explore --preset x86-vtd --threads 2 --depth 2 --impl optimized+check-then-act-unmap", output);

        (code, output, error) = Verify("explore", "--preset", "x86-vtd", "--threads", "2", "--depth", "1", "--json");
        Assert.True(code == ExitCodes.Ok, output + error);
        using var json = JsonDocument.Parse(output);
        var preset = json.RootElement[0];
        Assert.Equal("pass", preset.GetProperty("result").GetString());
        Assert.Equal(18, preset.GetProperty("schedules").GetInt64());
    }

    [Fact]
    public void AFindingIsWrittenUnderArtifactsAndItsReplayLineFailsTheSameWay()
    {
        var planted = PlantedSystems.LastByteOffByOne;
        var (output, replay) = FindWithPlanted(planted, "4");

        Assert.True(output.Contains("x86-vtd: Divergence INV-06 at depth 2; shortest counterexample:", StringComparison.Ordinal), output);
        Assert.Matches(@"(?m)^x86-vtd\s+4\s+1\s+.*\s+FAIL at depth 2: INV-06$", output);
        string file = replay[0];
        Assert.Equal(Artifacts, Path.GetDirectoryName(file));
        string text = File.ReadAllText(file);
        Assert.StartsWith("# counterexample found by: verify explore --preset x86-vtd --depth 4 --impl optimized\n", text);
        Assert.Contains("# shortest: every sequence of 1 or fewer ops from this alphabet ran clean", text);
        Assert.Equal(["--impl", "optimized"], replay.Skip(1));

        var (code, replayed) = Replay(replay, planted);
        Assert.True(code == ExitCodes.Failed, replayed);
        Assert.Contains("result: FAILED (Divergence INV-06 at step 1 of 2", replayed);
        // On the real implementation the same file passes: the failure is the planted bug's.
        Assert.Equal(ExitCodes.Ok, Replay(replay, DmaVerify.Cli.Composition.Implementations.Registry.Default).Code);
    }

    [Fact]
    public void AFaultInjectionFindingsReplayLineFailsTheSameAllocation()
    {
        var planted = PlantedSystems.FailedMapKeepsMapping;
        var (output, replay) = FindWithPlanted(planted, "2", "map,unmap,fault");

        Assert.Contains("x86-vtd: InvariantViolation INV-15 at depth 1; shortest counterexample:", output);
        Assert.Equal(["--impl", "optimized", "--fail-alloc", "0:1"], replay.Skip(1));
        Assert.Contains("# step 0 runs with the implementation's allocation #1 failing (replay: --fail-alloc 0:1)", File.ReadAllText(replay[0]));

        var (code, replayed) = Replay(replay, planted);
        Assert.True(code == ExitCodes.Failed, replayed);
        Assert.Contains("INV-15", replayed);
        // Without the failing allocation the same ops pass on the planted system.
        Assert.Equal(ExitCodes.Ok, Replay(replay.Take(3).ToList(), planted).Code);
    }

    [CFact]
    public void AnAllocatorsFindingReplaysFromThePrintedLineAsWritten()
    {
        // The example allocator planted to ignore the DMA limit (libmine-limit).
        var (code, output, error) = Verify("explore", "--preset", "x86-vtd", "--depth", "2", "--allocator", CAllocators.Example("limit"), "--in-process", "--artifacts", Artifacts);
        Assert.True(code == ExitCodes.Failed, output + error);
        var line = ReplayLine().Match(output);
        Assert.True(line.Success, output);
        var words = Words(line.Groups[1].Value);
        Assert.Equal(["verify", "replay"], words.Take(2));
        Assert.Contains("--allocator", words);
        Assert.Matches(@"x86-vtd: \w+ (INV-\d+) at depth \d", output);
        string invariant = Regex.Match(output, @"x86-vtd: \w+ (INV-\d+) at depth").Groups[1].Value;

        (code, string replayed, error) = Verify([.. words.Skip(1)]);
        Assert.True(code == ExitCodes.Failed, replayed + error);
        Assert.Contains(invariant, replayed);
    }
}
