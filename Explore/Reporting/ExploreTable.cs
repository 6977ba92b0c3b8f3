using System.Globalization;
using System.Text;

namespace DmaVerify.Explore;

/// <summary>The final table of a `verify explore` run: one row per preset, then the states/s of
/// the slowest preset and, per finding, where its counterexample is and how to replay it.</summary>
public static class ExploreTable
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Format(ExploreReport report)
    {
        var header = new[] { "preset", "depth", "clean to", "states", "distinct", "states/s", "seconds", "memory", "result" };
        var rows = report.Presets.Select(p => new[]
        {
            p.Preset,
            report.Depth.ToString(Invariant),
            p.CleanDepth.ToString(Invariant),
            p.States.ToString("N0", Invariant),
            p.Distinct.ToString("N0", Invariant),
            p.StatesPerSecond.ToString("N0", Invariant),
            p.Seconds.ToString("0.0", Invariant),
            $"{p.PeakMemoryBytes >> 20} MiB",
            ResultCell(p),
        }).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        var text = new StringBuilder();
        text.AppendLine(Line(header, widths));
        text.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in rows) text.AppendLine(Line(row, widths));
        if (report.Presets.Count > 0)
        {
            var slowest = report.Presets.MinBy(p => p.StatesPerSecond)!;
            text.AppendLine();
            text.AppendLine(Invariant, $"states/s: {slowest.StatesPerSecond:N0} (slowest preset: {slowest.Preset})");
        }
        foreach (var p in report.Presets)
        {
            if (p.Finding is { } f)
            {
                text.AppendLine();
                text.AppendLine(Invariant, $"{p.Preset}: {f.Kind} {f.Invariant} after {f.Length} op{(f.Length == 1 ? "" : "s")} (every shorter sequence ran clean){(f.FromShard is int s ? $", found by shard {s}" : "")}");
                text.AppendLine($"  {f.Message.ReplaceLineEndings(" ")}");
                if (f.File is not null) text.AppendLine($"  counterexample: {f.File}");
                if (f.Replay is not null) text.AppendLine($"  replay: {f.Replay}");
            }
            if (p.ToolError is not null) text.AppendLine().AppendLine($"{p.Preset}: no verdict: {p.ToolError}");
        }
        return text.ToString();
    }

    private static string ResultCell(ExploreReport.PresetReport p) => p.Result switch
    {
        "finding" => $"FAIL at depth {p.Finding?.Length}: {p.Finding?.Invariant}",
        "error" => "ERROR (no verdict)",
        "incomplete" => $"incomplete ({Reason(p.End)})",
        _ => p.End == nameof(ExploreEnd.Exhausted) ? "clean (state space exhausted)" : "clean",
    };

    private static string Reason(string end) => end switch
    {
        nameof(ExploreEnd.MaxStates) => "--max-states reached",
        nameof(ExploreEnd.TimeLimit) => "time limit",
        nameof(ExploreEnd.Cancelled) => "stopped",
        _ => end,
    };

    private static string Line(string[] cells, int[] widths)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < cells.Length; i++)
        {
            if (i > 0) sb.Append("  ");
            sb.Append(i is >= 1 and <= 7 ? cells[i].PadLeft(widths[i]) : cells[i].PadRight(widths[i]));
        }
        return sb.ToString().TrimEnd();
    }
}
