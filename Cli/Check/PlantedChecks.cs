using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using DmaVerify.Cli.Text;
using DmaVerify.Cli.Verbs;
using DmaVerify.Harness;
using DmaVerify.PlantedBugs;

namespace DmaVerify.Cli.Check;

/// <summary>
/// `verify check --plant NAME`: the check run against a bug of the planted-bug catalog in place
/// of the real implementations (only the items that run an implementation: the model's own
/// items and the proofs cannot see it). A check that passes has missed the bug.
/// `--plant all` does this for every bug of the catalog and prints which engines caught each,
/// how fast and how small the engines made the failing case: the table of
/// docs/planted-bugs.md. It exits 0 when every bug was caught, 1 when one escaped.
/// </summary>
internal static class PlantedChecks
{
    public const string Every = "all";

    /// <summary>The environment with the planted implementation as its only one; false with the
    /// known names when <paramref name="name"/> is not in the catalog.</summary>
    public static bool TryPlant(string name, CheckEnvironment context, out CheckEnvironment planted, out string banner, out string error)
    {
        planted = context;
        banner = error = "";
        if (PlantedCatalog.Find(name) is not { } bug)
        {
            error = $"no planted bug '{name}'; known: {string.Join(", ", PlantedCatalog.All.Select(b => b.Name))}, or '{Every}'";
            return false;
        }
        planted = For(bug, context, context.ArtifactDirectory);
        banner = $"planted: {bug.ImplementationName} ({bug.Slip.Describe()}): {bug.Description}; a check that passes missed it";
        return true;
    }

    private static CheckEnvironment For(PlantedBug bug, CheckEnvironment context, string artifacts) =>
        context with
        {
            // The catalog type is the provider, so fuzzing rebuilds the bug beside instrumented copies.
            Implementations = new ImplementationRegistry(typeof(PlantedCatalog), [bug.Implementation]),
            ArtifactDirectory = artifacts,
            // The conformance suite runs allocators on their own, not the planted system.
            Allocators = [],
        };

    /// <summary>What one bug's check found.</summary>
    private sealed record BugRun(PlantedBug Bug, IReadOnlyList<CheckResult> Results, TimeSpan Elapsed)
    {
        public IEnumerable<CheckResult> Failures => Results.Where(r => r.Outcome.Status == CheckStatus.Failed);
        public bool Caught => Failures.Any();
        public int Crashes => Results.Count(r => r.Outcome.Status == CheckStatus.Crashed);

        /// <summary>Engines that caught it, each with how many of its items failed.</summary>
        public string CaughtBy => Caught
            ? string.Join(", ", Failures.GroupBy(r => Family(r.Item)).Select(g => $"{g.Key} ({g.Count()}/{Results.Count(r => Family(r.Item) == g.Key)})"))
            : "ESCAPED";

        /// <summary>The engine column an item belongs to, without the planted implementation's name.</summary>
        public static string Family(CheckItem item) => item.Engine.StartsWith("corpus:", StringComparison.Ordinal) ? "corpus" : item.Engine;

        public CheckResult? Fastest => Failures.OrderBy(ToFind).FirstOrDefault();

        public int? SmallestCase => Failures.Select(r => r.Outcome.ShrunkOps).Where(n => n is not null).Min();

        public static double ToFind(CheckResult r) => r.Outcome.SecondsToFind ?? r.Elapsed.TotalSeconds;
    }

    public static int RunEvery(CheckRequest request, TextWriter output, TextWriter error, IScenarioText text, CheckEnvironment context)
    {
        var progressWriter = request.Json ? error : output;
        if (!CanWrite(request.ReportPath, "--report", error) || !CanWrite(request.JUnitPath, "--junit", error)) return ExitCodes.BadInput;
        var budget = CheckBudget.For(request.Level, request.Seed);
        var runner = new CheckRunner(CheckSources.All(text), new QuietProgress());
        var bugs = PlantedCatalog.All;
        var runs = new List<BugRun>(bugs.Count);
        progressWriter.WriteLine($"check --plant {Every}: {bugs.Count} planted bugs, each checked by every item that runs an implementation");
        foreach (var bug in bugs)
        {
            var environment = For(bug, context, Path.Combine(context.ArtifactDirectory, "planted", bug.Name));
            var (items, crashes) = runner.List(budget, environment);
            var selected = CheckVerb.Select(items, request with { Plant = bug.Name }).Concat(crashes).ToList();
            var clock = Stopwatch.StartNew();
            var results = runner.Run(selected, budget, environment, CancellationToken.None);
            var run = new BugRun(bug, results, clock.Elapsed);
            runs.Add(run);
            progressWriter.WriteLine($"[{runs.Count}/{bugs.Count}] {bug.ImplementationName}: {run.CaughtBy}" +
                (run.Fastest is { } f ? $"; first {f.Item.Name} after {Seconds(BugRun.ToFind(f))}" : "") +
                (run.SmallestCase is int n ? $"; {n}-op case" : "") +
                (run.Crashes > 0 ? $"; {run.Crashes} item(s) CRASHED" : "") + $" ({CheckTable.Seconds(run.Elapsed)})");
        }

        string command = CheckVerb.CommandLine(request);
        if (request.Json) output.WriteLine(Json(runs, command));
        else output.Write(Table(runs, command, markdown: false));
        if (request.ReportPath is { } report && !TryWrite(report, Table(runs, command, markdown: true), error)) return ExitCodes.Crashed;
        if (request.JUnitPath is { } junit && !TryWrite(junit, CheckReports.JUnit(runs.SelectMany(r => r.Results).ToList()), error)) return ExitCodes.Crashed;

        int escaped = runs.Count(r => !r.Caught);
        int crashed = runs.Sum(r => r.Crashes);
        progressWriter.WriteLine($"planted: {runs.Count - escaped} of {runs.Count} caught" + (escaped > 0 ? $"; ESCAPED: {string.Join(", ", runs.Where(r => !r.Caught).Select(r => r.Bug.Name))}" : ""));
        if (escaped > 0) return ExitCodes.Failed;
        if (crashed == 0) return ExitCodes.Ok;
        error.WriteLine($"{ExitCodes.FailurePrefix}{crashed} item(s) reached no verdict (CRASHED above)");
        return ExitCodes.Crashed;
    }

    /// <summary>Seconds to a finding: most are found in the first case, so below 1 s in hundredths.</summary>
    private static string Seconds(double s) => s.ToString(s < 1 ? "0.00" : s < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + " s";

    private static string Ops(int n) => n == 1 ? "1 op" : $"{n} ops";

    private static string Table(IReadOnlyList<BugRun> runs, string command, bool markdown)
    {
        var header = new[] { "bug", "in", "slip", "caught by (failed/run items)", "first", "after", "case" };
        var rows = runs.Select(r => new[]
        {
            r.Bug.Name, r.Bug.Base, r.Bug.Slip.Describe(), r.CaughtBy,
            r.Fastest?.Item.Name ?? "-", r.Fastest is { } f ? Seconds(BugRun.ToFind(f)) : "-",
            r.SmallestCase is int n ? Ops(n) : "-",
        }).ToList();
        var sb = new StringBuilder();
        if (markdown)
        {
            sb.AppendLine($"`{command}`").AppendLine();
            sb.AppendLine("| " + string.Join(" | ", header) + " |");
            sb.AppendLine("|" + string.Concat(header.Select(_ => "---|")));
            foreach (var row in rows) sb.AppendLine("| " + string.Join(" | ", row) + " |");
        }
        else
        {
            var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
            string Line(string[] cells) => string.Join("  ", cells.Select((c, i) => c.PadRight(widths[i]))).TrimEnd();
            sb.AppendLine(Line(header));
            sb.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
            foreach (var row in rows) sb.AppendLine(Line(row));
        }
        int caught = runs.Count(r => r.Caught);
        sb.AppendLine().AppendLine($"{caught} of {runs.Count} planted bugs caught; {CheckTable.Seconds(TimeSpan.FromTicks(runs.Sum(r => r.Elapsed.Ticks)))} in all");
        return sb.ToString();
    }

    private static string Json(IReadOnlyList<BugRun> runs, string command) => JsonSerializer.Serialize(new
    {
        command,
        caught = runs.Count(r => r.Caught),
        bugs = runs.Select(r => new
        {
            name = r.Bug.Name,
            implementation = r.Bug.ImplementationName,
            slip = r.Bug.Slip.Describe(),
            site = r.Bug.Site,
            description = r.Bug.Description,
            caught = r.Caught,
            caughtBy = r.Failures.Select(f => BugRun.Family(f.Item)).Distinct(),
            first = r.Fastest?.Item.Name,
            secondsToFind = r.Fastest is { } f ? Math.Round(BugRun.ToFind(f), 3) : (double?)null,
            shrunkOps = r.SmallestCase,
            seconds = Math.Round(r.Elapsed.TotalSeconds, 3),
            items = r.Results.Select(x => new
            {
                name = x.Item.Name,
                engine = x.Item.Engine,
                status = x.Outcome.Status.ToString().ToLowerInvariant(),
                cases = x.Outcome.Work.Cases,
                ops = x.Outcome.Work.Ops,
                execs = x.Outcome.Work.Execs,
                shrunkOps = x.Outcome.ShrunkOps,
                secondsToFind = x.Outcome.SecondsToFind is double s ? Math.Round(s, 3) : (double?)null,
                seconds = Math.Round(x.Elapsed.TotalSeconds, 3),
                problem = x.Outcome.Problem,
                replay = x.Outcome.ReplayCommand,
            }),
        }),
    }, new JsonSerializerOptions { WriteIndented = true });

    private static bool CanWrite(string? path, string option, TextWriter error)
    {
        if (path is null || Files.OutputPaths.WhyNotWritableFile(path) is not string why) return true;
        error.WriteLine($"verify check: {option} {path}: {why}; nothing was run");
        return false;
    }

    private static bool TryWrite(string path, string content, TextWriter error)
    {
        try
        {
            Fuzz.Engine.AtomicFile.Write(path, Encoding.UTF8.GetBytes(content));
            return true;
        }
        catch (Exception e) when (Fuzz.Engine.FileErrors.IsFileError(e))
        {
            error.WriteLine($"{ExitCodes.FailurePrefix}{path}: {Fuzz.Engine.FileErrors.Describe(e)}");
            return false;
        }
    }

    /// <summary>No per-item lines: --plant all prints one line per bug.</summary>
    private sealed class QuietProgress : ICheckProgress
    {
        public void Started(int items) { }
        public void ItemStarted(CheckItem item, int done) { }
        public void ItemStatus(CheckItem item, string status) { }
        public void ItemFinished(CheckResult result, int done, int total) { }
        public void Finished(IReadOnlyList<CheckResult> results) { }
    }
}
