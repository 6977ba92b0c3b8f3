using System.Text.Json;
using DmaVerify.Cli.Check;
using DmaVerify.Cli.Composition;
using DmaVerify.Cli.Text;
using DmaVerify.Cli.Verbs;

namespace DmaVerify.Tests.CliCheck;

/// <summary>`verify check --long` is resumable: items a journal records as done are not run
/// again (their results come from it), a line cut short by a kill is run again, --fresh and a
/// journal of another build start over, and a finished run files its journal away.</summary>
public sealed class CheckJournalTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "dmaverify-journal-" + Guid.NewGuid().ToString("N"));
    private string Journal => Path.Combine(_dir, "long", "check-long-seed1.jsonl");

    public CheckJournalTests() => Directory.CreateDirectory(Path.Combine(_dir, "long"));

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private (int Code, string Out) Long(bool fresh = false)
    {
        var output = new StringWriter();
        string corpus = Path.Combine(Repo.Root, "corpus");
        var request = new CheckRequest(CheckLevel.Long, 1, null, false, null, ["corpus:model"], ["x86-vtd", "k8-gart"], corpus, Fresh: fresh);
        int code = CheckVerb.Run(request, output, new StringWriter(), ScenarioTextForm.Current, new CheckEnvironment(Implementations.Registry, corpus, _dir));
        return (code, output.ToString());
    }

    private void WriteJournal(string build, params string[] items) =>
        File.WriteAllLines(Journal, [JsonSerializer.Serialize(new { build, command = "verify check --long" }), .. items]);

    private const string DoneX86 = """{"name":"corpus/model/x86-vtd","status":"passed","count":4242,"unit":"ops","ops":4242,"seconds":0.5}""";

    [Fact]
    public void ItemsTheJournalRecordsAreTakenFromIt()
    {
        WriteJournal(CheckJournal.BuildId(), DoneX86);
        var (code, output) = Long();
        Assert.Equal(0, code);
        Assert.Contains("resuming from", output);
        Assert.Contains("1 of 2 items already done", output);
        Assert.True(output.Contains("x86-vtd  pass 4.2k ops 0.5s", StringComparison.Ordinal), output);
        Assert.False(File.Exists(Journal), "a finished run files its journal away");
        Assert.Single(Directory.GetFiles(Path.Combine(_dir, "long"), "*.done.jsonl"));
    }

    [Fact]
    public void ALineCutShortRunsItsItemAgain()
    {
        WriteJournal(CheckJournal.BuildId(), DoneX86[..30]);
        var (code, output) = Long();
        Assert.Equal(0, code);
        Assert.DoesNotContain("resuming", output);
        Assert.DoesNotContain("4242", output);
    }

    [Fact]
    public void FreshAndAnotherBuildStartOver()
    {
        WriteJournal(CheckJournal.BuildId(), DoneX86);
        var (_, output) = Long(fresh: true);
        Assert.DoesNotContain("4242", output);

        WriteJournal("0123456789abcdef", DoneX86);
        (_, output) = Long();
        Assert.Contains("another build; starting over", output);
        Assert.DoesNotContain("4242", output);
    }
}
