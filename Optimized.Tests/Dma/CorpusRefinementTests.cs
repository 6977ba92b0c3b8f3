using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Tests.Dma;

/// <summary>Every corpus scenario, run on OptimizedSystem with the model judging each step.</summary>
public class CorpusRefinementTests
{
    [Theory]
    [MemberData(nameof(Repo.CorpusTheoryData), MemberType = typeof(Repo))]
    public void CorpusScenarioRefinesTheModel(string relativePath)
    {
        var parsed = ScenarioParser.ParseFile(Path.Combine(Repo.Root, relativePath));
        Assert.True(parsed.IsSuccess, parsed.ErrorText);
        var scenario = parsed.Scenario!;
        if (!scenario.TryBuildPlatform(out var platform, out string error)) return; // the corpus test judges invalid files
        var run = new SideBySide(relativePath, platform);
        foreach (var step in scenario.Steps) run.Step(step.Op);
        run.CheckInvariants();
    }
}
