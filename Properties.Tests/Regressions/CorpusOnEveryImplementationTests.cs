using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;
using DmaVerify.Cli.Composition;

namespace DmaVerify.Properties.Tests.Regressions;

/// <summary>
/// Every scenario under corpus/ (examples and the regression files the property runs write to
/// corpus/regressions/) replayed against every implementation in
/// <see cref="Implementations.Registry"/>, with the model judging each step. (Model.Tests' CorpusReplayTests
/// replays them on the model alone.)
/// </summary>
public class CorpusOnEveryImplementationTests
{
    public static TheoryData<string, string> FilesAndImplementations()
    {
        var data = new TheoryData<string, string>();
        foreach (var file in Repo.CorpusFiles())
            foreach (var impl in Implementations.Names)
                data.Add(file, impl);
        return data;
    }

    [Theory, MemberData(nameof(FilesAndImplementations))]
    public void RefinesTheModel(string relativePath, string implementation)
    {
        var parsed = ScenarioParser.ParseFile(Path.Combine(Repo.Root, relativePath));
        Assert.True(parsed.IsSuccess, parsed.ErrorText);
        if (!parsed.Scenario!.TryBuildPlatform(out var platform, out _)) return; // Model.Tests' corpus test judges files that do not build
        // Checked as every engine checks it (its model options, its counted known incompleteness).
        var chosen = Implementations.Registry.Get(implementation);
        var report = RefinementSession.Run(platform, parsed.Scenario.Steps.Select(s => s.Op), chosen.Create, chosen.Refinement);
        Assert.True(report.Passed, $"{relativePath} on {implementation}: {report.Finding}");
    }

    [Fact]
    public void RegressionFilesParseAndNameTheirPreset()
    {
        string dir = Path.Combine(Repo.Root, "corpus", RegressionWriter.Folder);
        if (!Directory.Exists(dir)) return;
        foreach (var file in Directory.EnumerateFiles(dir, "*.scn"))
        {
            var parsed = ScenarioParser.ParseFile(file);
            Assert.True(parsed.IsSuccess, parsed.ErrorText);
            Assert.True(parsed.Scenario!.TryBuildPlatform(out _, out string error), $"{file}: {error}");
        }
    }

}
