using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Tests;

/// <summary>Every scenario file under corpus/ replays on the model with no violation and with
/// every recorded outcome reproduced. A regression file committed there is a test from then on.</summary>
public class CorpusReplayTests
{
    public static TheoryData<string> ScenarioFiles()
    {
        var data = new TheoryData<string>();
        string corpus = Path.Combine(RepoRoot(), "corpus");
        foreach (var file in Directory.EnumerateFiles(corpus, "*.scn", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            data.Add(Path.GetRelativePath(RepoRoot(), file));
        return data;
    }

    [Theory]
    [MemberData(nameof(ScenarioFiles))]
    public void ReplaysClean(string relativePath)
    {
        var parsed = ScenarioParser.ParseFile(Path.Combine(RepoRoot(), relativePath));
        Assert.True(parsed.IsSuccess, parsed.ErrorText);
        var report = ScenarioRunner.Run(parsed.Scenario!);
        var problems = report.Steps.Where(s => !s.IsClean)
            .Select(s => $"step {s.Index}: {ScenarioPrinter.FormatOp(s.Op)} -> {(s.Outcome is null ? "(none)" : ScenarioPrinter.FormatOutcome(s.Outcome))}; {string.Join("; ", s.Violations)} {s.Mismatch}");
        Assert.True(report.Status == ReplayStatus.Passed, $"{relativePath}: {report.Status} {report.Error}\n{string.Join("\n", problems)}");
    }

    [Fact]
    public void TheCorpusHasScenarios() => Assert.NotEmpty(ScenarioFiles());

    internal static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Verify.sln"))) return dir.FullName;
        throw new InvalidOperationException("Verify.sln not found above " + AppContext.BaseDirectory);
    }
}
