using System.Text.Json;
using System.Xml.Linq;
using DmaVerify.Contracts;
using DmaVerify.Cli.Check;
using DmaVerify.Cli.Text;
using DmaVerify.Cli.Verbs;
using DmaVerify.Harness;
using DmaVerify.Model;
using DmaVerify.Cli.Composition;

namespace DmaVerify.Tests.CliCheck;

/// <summary>`verify check` run in-process on the repository's corpus, with the real
/// implementations and with a bug planted through the test-only context hook.</summary>
public sealed class CheckVerbTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "dmaverify-check-" + Guid.NewGuid().ToString("N"));

    public CheckVerbTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static string Corpus() => Repo.PathOf("corpus");

    private (int Code, string Out, string Err) Check(CheckRequest request, CheckEnvironment? context = null)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CheckVerb.Run(request, output, error, ScenarioTextForm.Current, context);
        return (code, output.ToString(), error.ToString());
    }

    private static CheckRequest Quick(params string[] engines) =>
        new(CheckLevel.Quick, 1, null, false, null, engines, [], Corpus());

    [Fact]
    public void TheCorpusPassesOnTheModelAndEveryImplementation()
    {
        var (code, output, _) = Check(Quick("corpus"));
        Assert.True(code == 0, output);
        Assert.Contains("corpus:model", output);
        foreach (var name in Implementations.Names) Assert.Contains($"corpus:{name}", output);
        Assert.Contains("check: PASSED", output);
    }

    [Fact]
    public void APlantedBugFailsTheCheckAndPrintsTheReplayCommand()
    {
        // Planted: every single map answers one page above the address it really mapped.
        var optimized = Implementations.Registry.Get(Implementations.Optimized);
        var planted = new ImplementationRegistry(provider: null,
            [optimized with { Create = p => new ShiftedMaps(optimized.Create(p)) }]);
        var (code, output, _) = Check(Quick("corpus"), new CheckEnvironment(planted, Corpus(), _dir));
        Assert.Equal(1, code);
        Assert.Contains("check: FAILED", output);
        Assert.Matches(@"replay: verify replay \S+\.scn --impl optimized", output);
        Assert.Contains("corpus:model", output); // the model's own replay still passes beside it
    }

    [Fact]
    public void JsonAndJUnitDescribeEveryItem()
    {
        string junit = Path.Combine(_dir, "sub", "check.xml");
        string report = Path.Combine(_dir, "check.md");
        var (code, output, _) = Check(Quick("corpus") with { Json = true, JUnitPath = junit, ReportPath = report });
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output);
        Assert.True(json.RootElement.GetProperty("passed").GetBoolean());
        int items = json.RootElement.GetProperty("items").GetArrayLength();
        Assert.True(items >= 2);
        var xml = XDocument.Load(junit);
        Assert.Equal(items, xml.Descendants("testcase").Count());
        Assert.Contains("| target |", File.ReadAllText(report));
    }

    [Fact]
    public void BadArgumentsSayWhatIsAccepted()
    {
        var (code, _, err) = Check(Quick("nonsense"));
        Assert.Equal(2, code);
        Assert.Contains("known: corpus", err);

        (code, _, err) = Check(Quick() with { CorpusDirectory = Path.Combine(_dir, "missing") });
        Assert.Equal(2, code);
        Assert.Contains("no such folder", err);

        (code, _, err) = Check(Quick("corpus:model") with { Targets = ["x86-vtd"] });
        Assert.Equal(0, code);

        (code, var output, err) = Check(Quick() with { Targets = ["no-such-preset"] });
        Assert.Equal(2, code);
        Assert.Contains("unknown target no-such-preset; known: ", err);
        Assert.DoesNotContain("PASSED", output);
    }

    [Theory]
    [InlineData("/proc/nope/r.md")]
    [InlineData("/proc/version/r.md")] // a folder under a regular file
    public void AnUnwritableReportPathIsRefusedBeforeAnythingRuns(string path)
    {
        var (code, output, err) = Check(Quick("corpus:model") with { ReportPath = path });
        Assert.Equal(2, code);
        Assert.Contains($"--report {path}: ", err);
        Assert.Contains("nothing was run", err);
        Assert.DoesNotContain("PASSED", output);
        Assert.DoesNotContain("corpus:model", output);

        (code, _, err) = Check(Quick("corpus:model") with { JUnitPath = _dir });
        Assert.Equal(2, code);
        Assert.Contains("is a folder", err);
    }

    private sealed class ShiftedMaps(ISystemUnderTest inner) : ISystemUnderTest
    {
        public string Name => "optimized";
        public Outcome Apply(Op op)
        {
            var outcome = inner.Apply(op);
            return op is Map && outcome is Mapped m ? m with { Dma = new DmaAddr(m.Dma.Value + 0x1000) } : outcome;
        }
        public SystemState ExportState() => inner.ExportState();
        public void FailNthAllocation(int n) => inner.FailNthAllocation(n);
        public long AllocationAttempts => inner.AllocationAttempts;
        public SystemSnapshot Snapshot() => inner.Snapshot();
        public void Restore(SystemSnapshot snapshot) => inner.Restore(snapshot);
    }
}
