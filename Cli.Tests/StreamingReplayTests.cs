using DmaVerify.Cli;
using DmaVerify.Cli.Files;
using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Tests;

/// <summary>
/// Replay and show of scenarios too large to hold (files above the streaming threshold, which
/// the tests lower on their own thread): the whole file is checked before anything runs, steps
/// are printed as they run, and the output is the same as for a file read whole. The parser's
/// streaming entry points agree with the whole-text parser on every corpus file.
/// </summary>
public sealed class StreamingReplayTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "dmaverify-stream-" + Guid.NewGuid().ToString("N"));

    public StreamingReplayTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        TextLines.StreamAboveForTests = null;
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private (int Code, string Out, string Err) Run(bool stream, params string[] args)
    {
        TextLines.StreamAboveForTests = stream ? 16 : null;
        try
        {
            var output = new StringWriter();
            var error = new StringWriter();
            int code = VerifyCli.Run(args, output, error);
            return (code, output.ToString(), error.ToString());
        }
        finally
        {
            TextLines.StreamAboveForTests = null;
        }
    }

    private string Write(string name, string content)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    public static TheoryData<string> CorpusScenarios() => Repo.CorpusTheoryData();

    [Theory]
    [MemberData(nameof(CorpusScenarios))]
    public void StreamingReplayPrintsWhatAWholeReadPrints(string file)
    {
        string path = Path.Combine(Repo.Root, file);
        var whole = Run(stream: false, "replay", path);
        var streamed = Run(stream: true, "replay", path);
        Assert.Equal(whole.Code, streamed.Code);
        Assert.Equal(whole.Out, streamed.Out);
        Assert.Equal(whole.Err, streamed.Err);
    }

    [Theory]
    [MemberData(nameof(CorpusScenarios))]
    public void ValidateAndStreamStepsAgreeWithTheWholeTextParser(string file)
    {
        string path = Path.Combine(Repo.Root, file);
        var whole = ScenarioParser.ParseFile(path);
        var validated = ScenarioParser.Validate(File.ReadLines(path), path, out long count);
        Assert.Equal(whole.IsSuccess, validated.IsSuccess);
        Assert.Equal(whole.Errors, validated.Errors);
        if (!whole.IsSuccess) return;
        Assert.Equal(whole.Scenario!.Preset, validated.Scenario!.Preset);
        Assert.Equal(whole.Scenario.Devices, validated.Scenario.Devices);
        Assert.Empty(validated.Scenario.Steps);
        Assert.Equal(whole.Scenario.Steps.Count, count);
        Assert.Equal(whole.Scenario.Steps, ScenarioParser.StreamSteps(File.ReadLines(path), path).ToList());
    }

    [Fact]
    public void AnErrorOnTheLastLineStopsTheStreamedReplayBeforeAnyStepRuns()
    {
        string path = Write("late-error.scn", "preset x86-vtd\nmap dev=0 phys=0x10000000 len=0x1000 dir=bidirectional\nmap dev=0 phys=oops len=0x1000 dir=bidirectional\n");
        var (code, output, error) = Run(stream: true, "replay", path);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Equal("", output);
        Assert.Contains($"{path}:3:", error);
    }

    [Fact]
    public void ABinaryLineInAStreamedFileIsBadInputNamingTheLine()
    {
        string path = Write("binary.scn", "preset x86-vtd\nmap dev=0 phys=0x10000000 len=0x1000 dir=bidirectional\nab\0cd\n");
        var (code, output, error) = Run(stream: true, "replay", path);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Equal("", output);
        Assert.Contains("line 3", error);
    }

    [Fact]
    public void StreamedShowRendersTheFinalStateAndRefusesImpl()
    {
        string path = Path.Combine(Repo.Root, "corpus", "examples", "gart-aperture.scn");
        var whole = Run(stream: false, "show", path);
        var streamed = Run(stream: true, "show", path);
        Assert.Equal(whole.Code, streamed.Code);
        Assert.Equal(whole.Out, streamed.Out);
        var impl = Run(stream: true, "show", path, "--impl", "optimized");
        Assert.Equal(ExitCodes.BadInput, impl.Code);
        Assert.Contains("streamed", impl.Err);
    }

    [Fact]
    public void ALongStreamedReplayCountsEveryStep()
    {
        var lines = new List<string> { "preset x86-vtd" };
        for (int i = 0; i < 300; i++)
        {
            lines.Add($"map dev=0 phys=0x{0x1000_0000 + i * 0x1000:X} len=0x1000 dir=bidirectional");
            if (i >= 100) lines.Add("unmap dev=0 handle=#0 len=0x1000 dir=bidirectional");
        }
        string path = Write("long.scn", string.Join("\n", lines) + "\n");
        var (code, output, _) = Run(stream: true, "replay", path);
        Assert.Equal(0, code);
        Assert.EndsWith("result: PASSED (500 of 500 steps run, 0 violations, 0 mismatches)\n", output.Replace("\r", ""));
    }
}
