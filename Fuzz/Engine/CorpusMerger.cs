using DmaVerify.Fuzz.Targets;

namespace DmaVerify.Fuzz.Engine;

/// <summary>
/// -merge=1: runs the inputs already in the first folder, then those of the other folders
/// (smallest first) and copies into the first folder every input that reaches a feature none
/// before it reached. Inputs that crash are reported and skipped; one that runs longer than
/// -timeout ends the merge (named), keeping what was merged.
/// </summary>
public static class CorpusMerger
{
    public static int Run(IFuzzTarget target, IReadOnlyList<string> folders, TextWriter log, FuzzOptions? options = null)
    {
        if (folders.Count < 2)
        {
            log.WriteLine("error: -merge=1 needs two or more corpus folders: OUTPUT INPUT...");
            return 2;
        }
        using var coverage = new CoverageFeatures(options?.UseValueProfile ?? false);
        coverage.Attach();
        string running = "";
        using var watchdog = Watchdog.ForNamedInputs(options ?? new FuzzOptions(), log, () => $"{running} (merge stopped; the inputs merged so far are kept)");
        var executor = new Executor(target, coverage, watchdog, new CurrentInput());
        var output = new CorpusFolder(folders[0]);
        Directory.CreateDirectory(output.Path);
        int existing = 0, added = 0, crashed = 0, seen = 0;
        foreach (var (name, data) in output.ReadNew())
        {
            existing++;
            running = Path.Combine(folders[0], name);
            if (executor.Execute(data) is null) coverage.CollectNew(commit: true);
        }
        log.WriteLine($"MERGE-OUTER: {existing} files in {folders[0]}, cov: {coverage.EdgeCount} ft: {coverage.FeatureCount}");
        var inputs = folders.Skip(1).SelectMany(f => new CorpusFolder(f).ReadNew().Select(x => (Name: Path.Combine(f, x.Name), x.Data))).ToList();
        inputs.Sort((a, b) => a.Data.Length.CompareTo(b.Data.Length));
        foreach (var (name, data) in inputs)
        {
            seen++;
            running = name;
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
