using DmaVerify.Contracts;
using DmaVerify.Cli.Text;
using DmaVerify.Harness;
using DmaVerify.Model;

namespace DmaVerify.Cli.Check;

/// <summary>
/// Replays every scenario file under the corpus folder (examples, regressions, fuzz
/// regressions): on the model, where recorded outcomes must match and no invariant may break,
/// and side by side on every implementation, which must refine the model. One item per preset
/// and engine, so the table reads like the other engines'.
/// </summary>
internal sealed class CorpusCheckSource(IScenarioText text) : ICheckSource
{
    public string Engine => "corpus";

    public IEnumerable<CheckItem> Items(CheckBudget budget, CheckEnvironment context)
    {
        if (context.CorpusDirectory is null || !Directory.Exists(context.CorpusDirectory))
        {
            yield return new CheckItem(Engine, "-", "corpus", _ =>
                CheckOutcome.Skip($"no corpus folder found (looked for {context.CorpusDirectory ?? "corpus/ above the current folder"}); pass --corpus DIR"));
            yield break;
        }

        var files = Directory.EnumerateFiles(context.CorpusDirectory, "*.scn", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal).ToList();
        var byPreset = new SortedDictionary<string, List<(string Path, Scenario? Scenario, string? Error)>>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var loaded = Load(file);
            string preset = loaded.Scenario?.Preset ?? "-";
            if (!byPreset.TryGetValue(preset, out var list)) byPreset[preset] = list = [];
            list.Add((file, loaded.Scenario, loaded.Error));
        }

        foreach (var (preset, scenarios) in byPreset)
        {
            yield return new CheckItem("corpus:model", preset, $"corpus/model/{preset}", run => ReplayOnModel(scenarios, run.Cancel)) { ChecksImplementation = false };
            foreach (var implementation in context.Implementations.All)
                yield return new CheckItem($"corpus:{implementation.Name}", preset, $"corpus/{implementation.Name}/{preset}", run => ReplayOnImplementation(scenarios, implementation, context.ReplayOptions, run.Cancel));
        }
    }

    private (Scenario? Scenario, string? Error) Load(string path)
    {
        try
        {
            var parsed = text.Parse(File.ReadAllText(path), path);
            return parsed.Scenario is { } s ? (s, null) : (null, parsed.Errors.FirstOrDefault()?.ToString() ?? "unparseable");
        }
        catch (IOException e) { return (null, $"{path}: {e.Message}"); }
        catch (UnauthorizedAccessException e) { return (null, $"{path}: {e.Message}"); }
    }

    private static CheckOutcome ReplayOnModel(List<(string Path, Scenario? Scenario, string? Error)> scenarios, CancellationToken ct)
    {
        long ops = 0;
        foreach (var (path, scenario, error) in scenarios)
        {
            ct.ThrowIfCancellationRequested();
            if (scenario is null) return CheckOutcome.Fail(ops, "ops", $"{path}: {error}", $"verify replay {path}");
            var report = ScenarioRunner.Run(scenario);
            ops += report.StepsCompleted;
            if (report.Status != ReplayStatus.Passed)
                return CheckOutcome.Fail(ops, "ops", $"{path}: {Verbs.ReplayVerb.Summary(report)}", $"verify replay {path}") with { Work = new CheckWork(Ops: ops), ShrunkOps = report.StepsCompleted };
        }
        return CheckOutcome.Pass(ops, "ops") with { Work = new CheckWork(Ops: ops) };
    }

    private static CheckOutcome ReplayOnImplementation(
        List<(string Path, Scenario? Scenario, string? Error)> scenarios, Implementation implementation, string replayOptions, CancellationToken ct)
    {
        long ops = 0;
        var options = new RefinementOptions { Model = implementation.ModelOptions };
        string replay(string path) => $"verify replay {path} --impl {implementation.Name}{replayOptions}";
        foreach (var (path, scenario, _) in scenarios)
        {
            ct.ThrowIfCancellationRequested();
            if (scenario is null || !scenario.TryBuildPlatform(out var platform, out _)) continue; // the model item reports it
            var report = RefinementSession.Run(platform, scenario.Steps.Select(s => s.Op), implementation.Create, options);
            ops += report.Steps.Count;
            if (report.Finding is { } f)
                return CheckOutcome.Fail(ops, "ops", $"{path}: {f}", replay(path)) with { Work = new CheckWork(Ops: ops), ShrunkOps = f.Step + 1 };
        }
        return CheckOutcome.Pass(ops, "ops") with { Work = new CheckWork(Ops: ops) };
    }
}
