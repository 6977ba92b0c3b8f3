using DmaVerify.Contracts;
using DmaVerify.Cli.Composition;
using DmaVerify.Cli.Check;
using DmaVerify.Cli.Files;
using DmaVerify.Cli.Text;
using DmaVerify.Fuzz.Engine;

namespace DmaVerify.Cli.Verbs;

/// <summary>What `verify check` was asked to do.</summary>
internal sealed record CheckRequest(
    CheckLevel Level,
    int Seed,
    string? ReportPath,
    bool Json,
    string? JUnitPath,
    IReadOnlyList<string> Engines,
    IReadOnlyList<string> Targets,
    string? CorpusDirectory,
    string? Plant = null,
    bool Fresh = false);

/// <summary>
/// `verify check`: the main job. Every engine on every preset (corpus replay, properties,
/// fuzzing, proofs), then one table with pass/fail, counts, time, and for each failure the
/// one-line command that replays it. Exit 0 only when nothing failed.
/// </summary>
internal static class CheckVerb
{
    /// <param name="plugged">An allocator given with --allocator: every item is about it (its
    /// corpus replay, property runs, fuzzing and conformance); items that do not involve it
    /// (the model's own runs, presets without dma-iommu domains, the proofs of Optimized's
    /// kernels) are left out.</param>
    public static int Run(CheckRequest request, TextWriter output, TextWriter error, IScenarioText text, CheckEnvironment? environmentOverride = null,
        PluggedImplementation? plugged = null)
    {
        string? corpus = request.CorpusDirectory ?? FindCorpus();
        if (request.CorpusDirectory is not null && OutputPaths.WhyNotReadableFolder(request.CorpusDirectory) is string badCorpus)
        {
            error.WriteLine($"verify check: --corpus {request.CorpusDirectory}: {badCorpus}");
            return ExitCodes.BadInput;
        }
        var context = environmentOverride ?? (plugged is null
            ? new CheckEnvironment(Implementations.Registry, corpus, ArtifactFolder(corpus))
            : new CheckEnvironment(plugged.Registry, corpus, ArtifactFolder(corpus)) { Allocators = [plugged.Subject], ReplayOptions = " " + plugged.ReplayOptions });
        if (request.Plant is string plant)
        {
            if (plugged is not null)
            {
                error.WriteLine($"verify check: --plant {plant} cannot be used with --allocator: bugs are planted in the shipped implementations, not in yours");
                return ExitCodes.BadInput;
            }
            if (plant == PlantedChecks.Every) return PlantedChecks.RunEvery(request, output, error, text, context);
            if (!PlantedChecks.TryPlant(plant, context, out context, out string banner, out string why))
            {
                error.WriteLine($"verify check: --plant {plant}: {why}");
                return ExitCodes.BadInput;
            }
            (request.Json ? error : output).WriteLine(banner);
        }
        var sources = CheckSources.All(text);
        var unknown = request.Engines.Where(e => !sources.Any(s => Matches(s.Engine, e) || e.StartsWith(s.Engine + ":", StringComparison.Ordinal))).ToList();
        if (unknown.Count > 0)
        {
            error.WriteLine($"verify check: unknown engine {string.Join(", ", unknown)}; known: {string.Join(", ", sources.Select(s => s.Engine))}");
            return ExitCodes.BadInput;
        }
        var budget = CheckBudget.For(request.Level, request.Seed);
        var progressWriter = request.Json ? error : output; // with --json the JSON takes stdout
        var runner = new CheckRunner(sources, MakeProgress(progressWriter));
        var (items, listingCrashes) = runner.List(budget, context);
        if (plugged is not null)
        {
            items = [.. items.Where(item => AboutImplementation(item, plugged.Allocator.Name))];
            progressWriter.WriteLine($"verify check: allocator {plugged.Allocator.Describe()}; items that do not involve it " +
                                     "(the model's own runs, presets without a dma-iommu domain, the proofs of Optimized's kernels) are left out");
        }
        if (request.Targets.Count > 0)
        {
            var known = items.Select(i => i.Target).Distinct(StringComparer.Ordinal).ToList();
            var unknownTargets = request.Targets.Where(t => !known.Contains(t, StringComparer.Ordinal)).ToList();
            if (unknownTargets.Count > 0)
            {
                error.WriteLine($"verify check: unknown target {string.Join(", ", unknownTargets)}; known: {string.Join(", ", known.Order(StringComparer.Ordinal))}");
                return ExitCodes.BadInput;
            }
        }
        // Output paths are checked before hours of work, not after.
        if (!CanWrite(request.ReportPath, "--report", error) || !CanWrite(request.JUnitPath, "--junit", error)) return ExitCodes.BadInput;

        var selected = Select(items, request).Concat(listingCrashes).ToList();
        var results = request.Level == CheckLevel.Long
            ? CheckJournal.Run(runner, selected, budget, context, request, progressWriter)
            : runner.Run(selected, budget, context, CancellationToken.None);

        if (request.Json) output.WriteLine(CheckReports.Json(results));
        else CheckTable.Write(results, output);

        string command = CommandLine(request);
        // Both were checked before the run: a write failing now is the tool failing.
        bool written = TryWrite(request.ReportPath, () => CheckReports.Markdown(results, command), "--report", error);
        written &= TryWrite(request.JUnitPath, () => CheckReports.JUnit(results), "--junit", error);
        if (!written) return ExitCodes.Crashed;

        if (results.Count == 0)
        {
            error.WriteLine("verify check: nothing matched the --engine/--target filters");
            return ExitCodes.BadInput;
        }
        // A finding wins over a tool failure elsewhere: it is the news the run exists for.
        if (results.Any(r => r.Outcome.Status == CheckStatus.Failed)) return ExitCodes.Failed;
        int crashed = results.Count(r => r.Outcome.Status == CheckStatus.Crashed);
        if (crashed == 0) return ExitCodes.Ok;
        error.WriteLine($"{ExitCodes.FailurePrefix}{crashed} item(s) reached no verdict (CRASH above)");
        return ExitCodes.Crashed;
    }

    /// <summary>The request as the command that makes it (for reports).</summary>
    internal static string CommandLine(CheckRequest request) =>
        "verify check" + request.Level switch { CheckLevel.Quick => " --quick", CheckLevel.Long => " --long", _ => "" }
        + (request.Plant is { } plant ? $" --plant {plant}" : "")
        + string.Concat(request.Engines.Select(e => $" --engine {e}"))
        + string.Concat(request.Targets.Select(t => $" --target {t}"))
        + (request.Seed != 1 ? $" --seed {request.Seed}" : "");

    /// <summary>The items the request's --engine and --target filters keep; with --plant only
    /// those that run an implementation (the planted bug cannot show elsewhere).</summary>
    internal static IEnumerable<CheckItem> Select(IEnumerable<CheckItem> items, CheckRequest request) =>
        items.Where(item =>
            (request.Engines.Count == 0 || request.Engines.Any(e => Matches(item.Engine, e)))
            && (request.Targets.Count == 0 || request.Targets.Contains(item.Target, StringComparer.Ordinal))
            && (request.Plant is null || item.ChecksImplementation));

    /// <summary>Live progress on a terminal, a line per item otherwise.</summary>
    internal static ICheckProgress MakeProgress(TextWriter writer) =>
        ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected
        || ReferenceEquals(writer, Console.Error) && !Console.IsErrorRedirected
            ? new LiveProgress(writer)
            : new LineProgress(writer);

    /// <summary>Whether an item runs <paramref name="implementation"/>: its column names it
    /// (corpus:NAME, conformance:NAME), its run does (refine/NAME/x86-vtd), or it fuzzes the
    /// registry's default.</summary>
    private static bool AboutImplementation(CheckItem item, string implementation) =>
        (item.Engine == "fuzz" || item.Engine.EndsWith(":" + implementation, StringComparison.Ordinal)
         || item.Name.Contains("/" + implementation + "/", StringComparison.Ordinal))
        && UsesIovaAllocator(item.Target);

    /// <summary>Whether a preset has dma-iommu domains, the only users of the IOVA allocator
    /// (GART and TCE windows have their own span allocators; "direct" has no IOMMU). "-" items
    /// (the mixed fuzz target, conformance) always do.</summary>
    private static bool UsesIovaAllocator(string target) =>
        target == "-" || !Presets.TryGet(target, out var platform, out _)
        || platform.Iommus.Any(i => i.Kind.HasPagingDomains);

    /// <summary>An engine filter names an engine ("corpus:optimized") or a family ("corpus").</summary>
    private static bool Matches(string engine, string filter) =>
        engine.Equals(filter, StringComparison.Ordinal) || engine.StartsWith(filter + ":", StringComparison.Ordinal);

    /// <summary>Whether <paramref name="path"/> can be written (checked before any item runs).</summary>
    private static bool CanWrite(string? path, string option, TextWriter error)
    {
        if (path is null || OutputPaths.WhyNotWritableFile(path) is not string why) return true;
        error.WriteLine($"verify check: {option} {path}: {why}; nothing was run");
        return false;
    }

    private static bool TryWrite(string? path, Func<string> content, string option, TextWriter error)
    {
        if (path is null) return true;
        try
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            File.WriteAllText(path, content());
            return true;
        }
        catch (Exception e) when (FileErrors.IsFileError(e))
        {
            error.WriteLine($"{ExitCodes.FailurePrefix}{option} {path}: {FileErrors.Describe(e)}");
            return false;
        }
    }

    /// <summary>The nearest <c>corpus/</c> folder at or above the current folder.</summary>
    internal static string? FindCorpus()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "corpus");
            if (Directory.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Where failing items write their artifacts: beside the corpus (ignored by git) or
    /// in the temp folder.</summary>
    private static string ArtifactFolder(string? corpus) =>
        corpus is not null ? Path.Combine(Path.GetDirectoryName(corpus)!, "artifacts", "check") : Path.Combine(Path.GetTempPath(), "dmaverify-check");
}
