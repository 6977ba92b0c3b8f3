using DmaVerify.Fuzz.Targets;

namespace DmaVerify.Fuzz.Engine;

/// <summary>
/// -merge=1: runs the inputs already in the first folder, then those of the other folders
/// (smallest first) and copies into the first folder every input that reaches a feature none
/// before it reached. Inputs that crash are reported and skipped.
/// </summary>
public static class CorpusMerger
{
    public static int Run(IFuzzTarget target, IReadOnlyList<string> folders, TextWriter log)
    {
        if (folders.Count < 2)
        {
            log.WriteLine("error: -merge=1 needs two or more corpus folders: OUTPUT INPUT...");
            return 2;
        }
        using var coverage = new CoverageFeatures();
        coverage.Attach();
        var executor = new Executor(target, coverage, watchdog: null, new CurrentInput());
        var output = new CorpusFolder(folders[0]);
        Directory.CreateDirectory(output.Path);
        int existing = 0, added = 0, crashed = 0, seen = 0;
        foreach (var (_, data) in output.ReadNew())
        {
            existing++;
            if (executor.Execute(data) is null) coverage.CollectNew(commit: true);
        }
        log.WriteLine($"MERGE-OUTER: {existing} files in {folders[0]}, cov: {coverage.EdgeCount} ft: {coverage.FeatureCount}");
        var inputs = folders.Skip(1).SelectMany(f => new CorpusFolder(f).ReadNew()).ToList();
        inputs.Sort((a, b) => a.Data.Length.CompareTo(b.Data.Length));
        foreach (var (name, data) in inputs)
        {
            seen++;
            if (executor.Execute(data) is { } crash)
            {
                crashed++;
                log.WriteLine($"MERGE-INNER: skipping {name}: {CrashSignature.Of(crash)}");
                continue;
            }
            if (coverage.CollectNew(commit: true) > 0)
            {
                output.Add(data);
                added++;
            }
        }
        log.WriteLine($"MERGE-OUTER: {seen} new files with {added} new features added; {crashed} crashed; cov: {coverage.EdgeCount} ft: {coverage.FeatureCount}");
        return 0;
    }
}
