using System.Globalization;
using System.Text;

namespace DmaVerify.Cli.Check;

/// <summary>
/// The summary of a check run as one table: a row per target (preset, or "-" for items not tied
/// to one), a column per engine, each cell "pass 1200 ops 3.1s" / "FAIL" / "skip"; then one
/// line per failure with the command that replays it. The same cells feed the Markdown report.
/// </summary>
internal static class CheckTable
{
    public static string Cell(CheckResult r)
    {
        var o = r.Outcome;
        string time = Seconds(r.Elapsed);
        return o.Status switch
        {
            CheckStatus.Passed => o.Work == CheckWork.None
                ? $"pass {o.Count} {o.Unit} {time}".Replace("  ", " ", StringComparison.Ordinal)
                : $"pass {Compact(o.Work)} {time}",
            CheckStatus.Failed => $"FAIL {time}",
            CheckStatus.Crashed => $"CRASH {time}",
            _ => "skip",
        };
    }

    /// <summary>"40 cases 2.4k ops" / "1.2k execs": what an item ran, for a table cell.</summary>
    public static string Compact(CheckWork work) => work.ToString().Replace(",", "", StringComparison.Ordinal);

    public static string Seconds(TimeSpan t) => t.TotalSeconds.ToString(t.TotalSeconds < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + "s";

    /// <summary>Rows and columns in a stable order: targets as the items came, engines likewise.</summary>
    public static (List<string> Targets, List<string> Engines, Dictionary<(string, string), List<CheckResult>> Cells) Shape(IReadOnlyList<CheckResult> results)
    {
        var targets = results.Select(r => r.Item.Target).Distinct().ToList();
        var engines = results.Select(r => r.Item.Engine).Distinct().ToList();
        var cells = results.GroupBy(r => (r.Item.Target, r.Item.Engine)).ToDictionary(g => g.Key, g => g.ToList());
        return (targets, engines, cells);
    }

    /// <summary>The cell text of several items in one (target, engine) slot, e.g. several proof
    /// obligations: passes are summed, any failure wins.</summary>
    public static string Merge(List<CheckResult> slot)
    {
        if (slot.Count == 1) return Cell(slot[0]);
        var time = TimeSpan.FromTicks(slot.Sum(r => r.Elapsed.Ticks));
        int failed = slot.Count(r => r.Outcome.Status is CheckStatus.Failed or CheckStatus.Crashed);
        if (failed > 0) return $"FAIL {failed}/{slot.Count} {Seconds(time)}";
        if (slot.All(r => r.Outcome.Status == CheckStatus.Skipped)) return "skip";
        var passed = slot.Where(r => r.Outcome.Status == CheckStatus.Passed).ToList();
        var work = passed.Aggregate(CheckWork.None, (sum, r) => sum + r.Outcome.Work);
        if (work != CheckWork.None && passed.All(r => r.Outcome.Work != CheckWork.None)) return $"pass {Compact(work)} {Seconds(time)}";
        var units = passed.Select(r => r.Outcome.Unit).Distinct().ToList();
        long count = passed.Sum(r => r.Outcome.Count);
        return $"pass {count} {(units.Count == 1 ? units[0] : "items")} {Seconds(time)}";
    }

    public static void Write(IReadOnlyList<CheckResult> results, TextWriter output)
    {
        var (targets, engines, cells) = Shape(results);
        var header = new List<string> { "target" };
        header.AddRange(engines);
        var rows = targets.Select(t =>
        {
            var row = new List<string> { t };
            row.AddRange(engines.Select(e => cells.TryGetValue((t, e), out var slot) ? Merge(slot) : ""));
            return row;
        }).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        output.WriteLine(Line(header, widths));
        output.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in rows) output.WriteLine(Line(row, widths));

        var failures = results.Where(r => r.Outcome.Status is CheckStatus.Failed or CheckStatus.Crashed).ToList();
        var skips = results.Where(r => r.Outcome.Status == CheckStatus.Skipped).ToList();
        if (failures.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("failures:");
            foreach (var f in failures)
            {
                output.WriteLine($"  {f.Item.Name}: {f.Outcome.Problem}");
                if (f.Outcome.ReplayCommand is not null) output.WriteLine($"    replay: {f.Outcome.ReplayCommand}");
            }
        }
        if (skips.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("skipped:");
            foreach (var s in skips.GroupBy(s => s.Outcome.Problem)) output.WriteLine($"  {string.Join(", ", s.Select(x => x.Item.Name).Take(4))}{(s.Count() > 4 ? $" (+{s.Count() - 4})" : "")}: {s.Key}");
        }
        output.WriteLine();
        output.WriteLine(Summary(results));
    }

    public static string Summary(IReadOnlyList<CheckResult> results)
    {
        int passed = results.Count(r => r.Outcome.Status == CheckStatus.Passed);
        int failed = results.Count(r => r.Outcome.Status is CheckStatus.Failed or CheckStatus.Crashed);
        int skipped = results.Count(r => r.Outcome.Status == CheckStatus.Skipped);
        var time = TimeSpan.FromTicks(results.Sum(r => r.Elapsed.Ticks));
        var work = results.Aggregate(CheckWork.None, (sum, r) => sum + r.Outcome.Work);
        string ran = work == CheckWork.None ? "" : $"; ran {work}";
        return $"check: {(failed == 0 ? "PASSED" : "FAILED")} ({passed} passed, {failed} failed, {skipped} skipped; {Seconds(time)}{ran})";
    }

    private static string Line(List<string> cells, int[] widths)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < cells.Count; i++)
        {
            if (i > 0) sb.Append("  ");
            sb.Append(cells[i].PadRight(widths[i]));
        }
        return sb.ToString().TrimEnd();
    }
}
