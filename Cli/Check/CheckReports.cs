using System.Text;
using System.Text.Json;
using System.Xml.Linq;

namespace DmaVerify.Cli.Check;

/// <summary>The machine-readable forms of a check run: Markdown (<c>--report</c>), JSON
/// (<c>--json</c>) and JUnit XML (<c>--junit</c>) for CI systems.</summary>
internal static class CheckReports
{
    public static string Markdown(IReadOnlyList<CheckResult> results, string command)
    {
        var (targets, engines, cells) = CheckTable.Shape(results);
        var sb = new StringBuilder();
        sb.AppendLine("# verify check").AppendLine();
        sb.AppendLine($"`{command}`").AppendLine();
        sb.AppendLine("| target | " + string.Join(" | ", engines) + " |");
        sb.AppendLine("|---|" + string.Concat(engines.Select(_ => "---|")));
        foreach (var t in targets)
            sb.AppendLine($"| {t} | " + string.Join(" | ", engines.Select(e => cells.TryGetValue((t, e), out var slot) ? CheckTable.Merge(slot) : "")) + " |");
        var failures = results.Where(r => r.Outcome.Status is CheckStatus.Failed or CheckStatus.Crashed).ToList();
        if (failures.Count > 0)
        {
            sb.AppendLine().AppendLine("## Failures").AppendLine();
            foreach (var f in failures)
            {
                sb.AppendLine($"- **{f.Item.Name}**: {f.Outcome.Problem}");
                if (f.Outcome.ReplayCommand is not null) sb.AppendLine($"  replay: `{f.Outcome.ReplayCommand}`");
            }
        }
        sb.AppendLine().AppendLine(CheckTable.Summary(results));
        return sb.ToString();
    }

    public static string Json(IReadOnlyList<CheckResult> results)
    {
        var doc = new
        {
            passed = results.All(r => r.Outcome.Status is CheckStatus.Passed or CheckStatus.Skipped),
            items = results.Select(r => new
            {
                name = r.Item.Name,
                engine = r.Item.Engine,
                target = r.Item.Target,
                status = r.Outcome.Status.ToString().ToLowerInvariant(),
                count = r.Outcome.Count,
                unit = r.Outcome.Unit,
                cases = r.Outcome.Work.Cases,
                ops = r.Outcome.Work.Ops,
                execs = r.Outcome.Work.Execs,
                shrunkOps = r.Outcome.ShrunkOps,
                secondsToFind = r.Outcome.SecondsToFind is double s ? Math.Round(s, 3) : (double?)null,
                seconds = Math.Round(r.Elapsed.TotalSeconds, 3),
                problem = r.Outcome.Problem,
                replay = r.Outcome.ReplayCommand,
            }),
        };
        return JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true });
    }

    public static string JUnit(IReadOnlyList<CheckResult> results)
    {
        var suites = results.GroupBy(r => r.Item.Engine).Select(g => new XElement("testsuite",
            new XAttribute("name", g.Key),
            new XAttribute("tests", g.Count()),
            new XAttribute("failures", g.Count(r => r.Outcome.Status == CheckStatus.Failed)),
            new XAttribute("errors", g.Count(r => r.Outcome.Status == CheckStatus.Crashed)),
            new XAttribute("skipped", g.Count(r => r.Outcome.Status == CheckStatus.Skipped)),
            new XAttribute("time", Seconds(g.Sum(r => r.Elapsed.TotalSeconds))),
            g.Select(r => new XElement("testcase",
                new XAttribute("classname", r.Item.Engine),
                new XAttribute("name", r.Item.Name),
                new XAttribute("time", Seconds(r.Elapsed.TotalSeconds)),
                r.Outcome.Status switch
                {
                    CheckStatus.Failed => new XElement("failure", new XAttribute("message", r.Outcome.Problem ?? ""), r.Outcome.ReplayCommand ?? ""),
                    CheckStatus.Crashed => new XElement("error", new XAttribute("message", r.Outcome.Problem ?? "")),
                    CheckStatus.Skipped => new XElement("skipped", new XAttribute("message", r.Outcome.Problem ?? "")),
                    _ => null,
                }))));
        return new XDocument(new XDeclaration("1.0", "utf-8", null), new XElement("testsuites", suites)).ToString();
    }

    private static string Seconds(double s) => s.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture);
}
