using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Tests;

/// <summary>Every scenario file under corpus/ replays on the model with no violation and with
/// every recorded outcome reproduced. A regression file committed there is a test from then on.</summary>
public class CorpusReplayTests
{
    [Theory]
    [MemberData(nameof(Repo.CorpusTheoryData), MemberType = typeof(Repo))]
    public void ReplaysClean(string relativePath)
    {
        var parsed = ScenarioParser.ParseFile(Path.Combine(Repo.Root, relativePath));
        Assert.True(parsed.IsSuccess, parsed.ErrorText);
        var report = ScenarioRunner.Run(parsed.Scenario!);
        var problems = report.Steps.Where(s => !s.IsClean)
            .Select(s => $"step {s.Index}: {ScenarioPrinter.FormatOp(s.Op)} -> {(s.Outcome is null ? "(none)" : ScenarioPrinter.FormatOutcome(s.Outcome))}; {string.Join("; ", s.Violations)} {s.Mismatch}");
        Assert.True(report.Status == ReplayStatus.Passed, $"{relativePath}: {report.Status} {report.Error}\n{string.Join("\n", problems)}");
    }

    [Fact]
    public void TheCorpusHasScenarios() => Assert.NotEmpty(Repo.CorpusFiles());
}
