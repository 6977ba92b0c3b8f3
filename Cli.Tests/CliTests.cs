using System.Text.RegularExpressions;
using DmaVerify.Contracts;
using DmaVerify.Cli;
using DmaVerify.Cli.Text;
using DmaVerify.Cli.Verbs;
using DmaVerify.Model;

namespace DmaVerify.Tests;

/// <summary>
/// The `verify` command run in-process (<see cref="VerifyCli.Run(string[], TextWriter, TextWriter)"/>)
/// on small scenario files in a temporary folder. Tests that give the CLI a scenario without
/// going through the text parser use <see cref="FixedText"/>, a stand-in text form that answers
/// every file with one fixed scenario.
/// </summary>
public sealed class CliTests : IDisposable
{

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "dmaverify-cli-" + Guid.NewGuid().ToString("N"));

    public CliTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private sealed record Result(int Code, string Out, string Err);

    private static Result Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = VerifyCli.Run(args, output, error);
        return new Result(code, output.ToString(), error.ToString());
    }

    private static Result RunWith(IScenarioText text, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = VerifyCli.Run(args, output, error, text);
        return new Result(code, output.ToString(), error.ToString());
    }

    private string WriteFile(string name, string content)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>A text form that parses every file as one fixed scenario.</summary>
    private sealed class FixedText(Scenario scenario) : IScenarioText
    {
        public ScenarioTextResult Parse(string text, string fileName) => new(scenario, []);
        public string Print(Scenario s) => "fixed";
        public string FormatOp(Op op) => op.ToString();
        public string FormatOutcome(Outcome outcome) => outcome is Failed f ? f.Error.ToString() : outcome.ToString() ?? "";
    }

    private sealed class ThrowingText : IScenarioText
    {
        public ScenarioTextResult Parse(string text, string fileName) => throw new InvalidOperationException("parser bug");
        public string Print(Scenario s) => throw new InvalidOperationException();
        public string FormatOp(Op op) => op.ToString();
        public string FormatOutcome(Outcome outcome) => outcome.ToString() ?? "";
    }

    private static Scenario MapUnmap(Outcome? expectedForMap = null) => new(
        Presets.X86Vtd,
        ValueList<DeviceConfig>.Empty,
        ValueList.Of(
            new ScenarioStep(new Map(0, new PhysAddr(0x1000_0000), 0x2000, DmaDirection.ToDevice), expectedForMap),
            new ScenarioStep(new Unmap(0, new LiveRef(0), 0x2000, DmaDirection.ToDevice))));

    // ---- help -------------------------------------------------------------------------------

    [Fact]
    public void RootHelpListsTheVerbsWithExamples()
    {
        var r = Run("--help");
        Assert.Equal(0, r.Code);
        Assert.Contains("replay <FILE>", r.Out);
        Assert.Contains("show <FILE>", r.Out);
        Assert.Contains("Examples:", r.Out);
        Assert.Contains("verify replay ", r.Out);
    }

    [Fact]
    public void ReplayHelpHasUsageExampleAndExitCodes()
    {
        var r = Run("replay", "--help");
        Assert.Equal(0, r.Code);
        Assert.Contains("verify replay <FILE>", r.Out);
        Assert.Contains("Examples:", r.Out);
        Assert.Contains("  verify replay corpus/examples/gart-aperture.scn", r.Out);
        Assert.Contains(string.Join("\n", ExitCodes.Table), r.Out.ReplaceLineEndings("\n"));
        Assert.Contains("file:line:col", r.Out);
        Assert.Equal("", r.Err);
    }

    /// <summary>One table for all: every verb's help ends with the same exit codes.</summary>
    [Theory]
    [InlineData()]
    [InlineData("replay")]
    [InlineData("show")]
    [InlineData("check")]
    [InlineData("fuzz")]
    [InlineData("fuzz-afl")]
    [InlineData("instrument")]
    [InlineData("prove")]
    [InlineData("bench")]
    public void EveryVerbsHelpEndsWithTheOneExitCodeTable(params string[] verb)
    {
        var r = Run([.. verb, "--help"]);
        Assert.Equal(0, r.Code);
        Assert.EndsWith(string.Join("\n", ExitCodes.Table), r.Out.ReplaceLineEndings("\n").TrimEnd());
    }

    [Fact]
    public void ShowHelpHasUsageAndExample()
    {
        var r = Run("show", "-h");
        Assert.Equal(0, r.Code);
        Assert.Contains("verify show <FILE>", r.Out);
        Assert.Contains("  verify show corpus/examples/gart-aperture.scn", r.Out);
    }

    // ---- bad input: exit 2 ------------------------------------------------------------------

    [Fact]
    public void MissingFileExitsTwo()
    {
        string path = Path.Combine(_dir, "does-not-exist.scn");
        foreach (var verb in new[] { "replay", "show" })
        {
            var r = Run(verb, path);
            Assert.Equal(ExitCodes.BadInput, r.Code);
            Assert.Contains($"{path}: error: no such file", r.Err);
            Assert.Equal("", r.Out);
        }
    }

    [Fact]
    public void DirectoryInsteadOfFileExitsTwo()
    {
        var r = Run("replay", _dir);
        Assert.Equal(ExitCodes.BadInput, r.Code);
        Assert.Contains("is a folder, not a scenario file", r.Err);
    }

    [Fact]
    public void MalformedFileExitsTwoWithFileLineAndColumn()
    {
        string path = WriteFile("malformed.scn", "this is not a scenario\n@@@ nor is this\n");
        foreach (var verb in new[] { "replay", "show" })
        {
            var r = Run(verb, path);
            Assert.Equal(ExitCodes.BadInput, r.Code);
            Assert.Matches(new Regex("^" + Regex.Escape(path) + @":\d+:\d+: \S", RegexOptions.Multiline), r.Err);
            Assert.Equal("", r.Out);
        }
    }

    [Fact]
    public void MalformedLineIsReportedAtItsOwnLine()
    {
        // Print a valid scenario, then spoil the line of its second op: the error must name
        // that line, whatever the header looks like.
        var text = ScenarioTextForm.Current;
        var lines = text.Print(MapUnmap()).Split('\n').ToList();
        string unmapLine = text.FormatOp(MapUnmap().Steps[1].Op);
        int index = lines.FindIndex(l => l.TrimStart().StartsWith(unmapLine, StringComparison.Ordinal));
        Assert.True(index >= 0, "printed scenario has the unmap op on a line of its own");
        lines[index] = "unmap dev=zero handle=#0";
        string path = WriteFile("spoiled.scn", string.Join('\n', lines));

        var r = Run("replay", path);
        Assert.Equal(ExitCodes.BadInput, r.Code);
        Assert.Matches(new Regex("^" + Regex.Escape(path) + $":{index + 1}:\\d+: \\S", RegexOptions.Multiline), r.Err);
    }

    [Theory]
    [InlineData("")]
    [InlineData("replay")]
    [InlineData("show")]
    [InlineData("frobnicate")]
    [InlineData("replay a.scn b.scn")]
    public void UsageErrorsExitTwo(string args)
    {
        var r = Run(args.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(ExitCodes.BadInput, r.Code);
        Assert.Contains("verify --help", r.Err);
    }

    [Fact]
    public void UnknownPresetExitsTwo()
    {
        string path = WriteFile("preset.scn", "");
        var r = RunWith(new FixedText(new Scenario("pdp-11", [])), "replay", path);
        Assert.Equal(ExitCodes.BadInput, r.Code);
        Assert.Contains($"{path}: error: unknown preset 'pdp-11'", r.Err);
    }

    [Fact]
    public void DeviceOverrideOnAMissingIommuExitsTwo()
    {
        string path = WriteFile("override.scn", "");
        var scenario = new Scenario(Presets.Direct,
            ValueList.Of(new DeviceConfig { Id = 9, Iommu = 3 }), ValueList<ScenarioStep>.Empty);
        var r = RunWith(new FixedText(scenario), "show", path);
        Assert.Equal(ExitCodes.BadInput, r.Code);
        Assert.Contains("names IOMMU 3", r.Err);
    }

    /// <summary>An exception no verb expected ends as one "DmaVerify failed:" line and exit 3:
    /// no stack trace, and never 1, which means a finding (here the printer throws while a fuzz
    /// input is replayed).</summary>
    [Fact]
    public void AnExceptionOutOfAVerbIsOneToolFailureLineWithExitThree()
    {
        string path = WriteFile("input.bin", "\0\0\0\0");
        var r = RunWith(new ThrowingText(), "replay", path, "--target", Presets.Direct);
        Assert.Equal(ExitCodes.Crashed, r.Code);
        var lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("DmaVerify failed: internal error (InvalidOperationException: ", lines[0]);
        Assert.EndsWith("a bug in DmaVerify; DMAVERIFY_DEBUG=1 prints where", lines[0].TrimEnd());
    }

    [Theory]
    [InlineData("dir", "no such file or folder")]
    [InlineData("io28", "no space left on device")]
    [InlineData("io30", "read-only file system")]
    [InlineData("denied", "permission denied")]
    public void FileSystemFailuresAreNamedInWords(string kind, string words)
    {
        Exception e = kind switch
        {
            "dir" => new DirectoryNotFoundException("Could not find a part of the path '/data/corpus/x'."),
            "io28" => new IOException("No space left on device : '/data/corpus/x'", 28),
            "io30" => new IOException("Read-only file system : '/data/corpus/x'", 30),
            _ => new UnauthorizedAccessException("Access to the path '/data/corpus/x' is denied."),
        };
        Assert.Equal($"/data/corpus/x: {words}", ToolFailure.Describe(e));
    }

    [Fact]
    public void ParserThatThrowsIsReportedAsABugWithExitThree()
    {
        string path = WriteFile("any.scn", "x");
        var r = RunWith(new ThrowingText(), "replay", path);
        Assert.Equal(ExitCodes.Crashed, r.Code);
        Assert.Contains("the scenario parser crashed", r.Err);
    }

    // ---- reports ----------------------------------------------------------------------------

    [Fact]
    public void ScenarioWithoutStepsPasses()
    {
        string path = WriteFile("empty.scn", "");
        var r = RunWith(new FixedText(new Scenario(Presets.ArmSmmu, [])), "replay", path);
        Assert.Equal(ExitCodes.Ok, r.Code);
        Assert.Contains($"replay {path}: preset arm-smmu, 0 steps", r.Out);
        Assert.Contains("result: PASSED", r.Out);
    }

    [Fact]
    public void CrashReportPrintsTheStepAndExitsThree()
    {
        var report = ScenarioRunner.Run(MapUnmap(), p => new ScriptedTarget(p, _ => throw new NotImplementedException("not yet")));
        var output = new StringWriter();
        ReplayVerb.Write("t.scn", report, output, new FixedText(MapUnmap()));
        string text = output.ToString();
        Assert.Equal(ExitCodes.Crashed, ReplayVerb.ExitCodeOf(report));
        Assert.Contains("step 0: Map {", text);
        Assert.Contains("CRASH model crashed at step 0: NotImplementedException: not yet", text);
        Assert.DoesNotContain("step 1:", text);
        Assert.Contains("result: CRASHED (0 of 2 steps run", text);
    }

    [Fact]
    public void MismatchReportShowsBothOutcomesAndExitsOne()
    {
        var scenario = MapUnmap(expectedForMap: new Failed(DmaErrorKind.NotCapable, "recorded"));
        var report = ScenarioRunner.Run(scenario, p => new ScriptedTarget(p, _ => Done.Instance));
        var output = new StringWriter();
        ReplayVerb.Write("t.scn", report, output, new FixedText(scenario));
        Assert.Equal(ExitCodes.Failed, ReplayVerb.ExitCodeOf(report));
        Assert.Contains("  mismatch: expected NotCapable: recorded, got ok", output.ToString());
        // The scripted target answers "ok" to everything, so the checker also reports violations.
        Assert.Matches(@"result: FAILED \(2 of 2 steps run, \d+ violations?, 1 mismatch\)", output.ToString());
    }

    // ---- with the real model executor -------------------------------------------------------

    [Fact]
    public void ReplayOfMapThenUnmapPasses()
    {
        string path = WriteFile("map-unmap.scn", "");
        var r = RunWith(new FixedText(MapUnmap()), "replay", path);
        Assert.True(r.Code == ExitCodes.Ok, r.Out + r.Err);
        Assert.Contains("step 0: Map {", r.Out);
        Assert.Contains("step 1: Unmap {", r.Out);
        Assert.Contains("result: PASSED (2 of 2 steps run, 0 violations, 0 mismatches)", r.Out);
    }

    [Fact]
    public void ReplayReportsAnExpectedOutcomeMismatch()
    {
        string path = WriteFile("mismatch.scn", "");
        var r = RunWith(new FixedText(MapUnmap(expectedForMap: new Failed(DmaErrorKind.NotCapable, ""))), "replay", path);
        Assert.Equal(ExitCodes.Failed, r.Code);
        Assert.Contains("mismatch: expected NotCapable", r.Out);
    }

    [Fact]
    public void ShowPrintsTheDomainsIovaSpace()
    {
        string path = WriteFile("show.scn", "");
        var r = RunWith(new FixedText(MapUnmap() with { Steps = ValueList.Of(MapUnmap().Steps[0]) }), "show", path);
        Assert.True(r.Code == ExitCodes.Ok, r.Out + r.Err);
        Assert.Contains("domain ", r.Out);
        Assert.Contains("aperture", r.Out);
        Assert.Matches(@"0xFEE00000\s+0xFEEFFFFF\s+1 MiB\s+msi", r.Out);  // the x86 MSI window
        Assert.Contains("direct", r.Out);                               // the RMRR
        Assert.Contains("dev 0 #0 single to_device phys 0x10000000 8 KiB", r.Out);
        Assert.Contains("dev 0 nic (PCI): domain", r.Out);
    }

    [Fact]
    public void ReplayOfAPrintedScenarioFilePasses()
    {
        string path = WriteFile("printed.scn", ScenarioTextForm.Current.Print(MapUnmap()));
        var r = Run("replay", path);
        Assert.True(r.Code == ExitCodes.Ok, r.Out + r.Err);
        Assert.Contains("step 0: " + ScenarioTextForm.Current.FormatOp(MapUnmap().Steps[0].Op), r.Out);
    }

    [Fact]
    public void ReplayWithAnImplementationComparesItsOutcomesWithTheRecordedOnes()
    {
        // The file records the model's choices; optimized allocates top-down in the aperture, a
        // choice the model allows: the difference is named, the refinement verdict stands.
        string differs = WriteFile("gart.scn",
            "preset k8-gart\nmap dev=0 phys=0x41000000 len=0x1000 dir=to_device  # -> mapped 0x40000000\n");
        var r = Run("replay", differs, "--impl", "optimized");
        Assert.True(r.Code == ExitCodes.Ok, r.Out + r.Err);
        Assert.Contains("differs from the file's recorded mapped 0x40000000 (the model accepts it", r.Out);
        Assert.Contains("optimized differs from 1 recorded outcome)", r.Out);

        string same = WriteFile("bypass.scn",
            "preset k8-gart\nmap dev=0 phys=0x10000000 len=0x1000 dir=to_device  # -> mapped 0x10000000\n");
        r = Run("replay", same, "--impl", "optimized");
        Assert.True(r.Code == ExitCodes.Ok, r.Out + r.Err);
        Assert.DoesNotContain("differs from the file's recorded", r.Out);
        Assert.Contains("optimized matches every recorded outcome)", r.Out);
    }

    [Fact]
    public void ReplayOnLinuxStyleCountsItsKnownIncompletenessAndNamesIt()
    {
        string path = Path.Combine(Repo.Root, "corpus/regressions/soc-vcm-linuxstyle-max32-after-low-limit-failure.scn");
        var r = Run("replay", path, "--impl", "linuxstyle");
        Assert.True(r.Code == ExitCodes.Ok, r.Out + r.Err);
        Assert.Contains("the model finds room for this (INV-11); counted as linuxstyle's known incompleteness: LinuxStyle's max32_alloc_size", r.Out);
        Assert.Contains("1 known-incompleteness refusal counted", r.Out);
        r = Run("replay", path, "--impl", "optimized");
        Assert.True(r.Code == ExitCodes.Ok, r.Out + r.Err);
        Assert.DoesNotContain("known incompleteness", r.Out);
    }
}
