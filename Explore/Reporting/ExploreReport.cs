using System.Text.Json;
using System.Text.Json.Serialization;
using DmaVerify.Contracts;
using DmaVerify.Harness;

namespace DmaVerify.Explore;

/// <summary>
/// The machine-readable report of one `verify explore` run (<c>--json</c>), and what
/// <c>--merge</c> joins: the shards of one search run anywhere (a CI matrix, Slurm, Kubernetes
/// Jobs, GNU parallel) each write one, and the merge checks they are the parts of one search
/// and adds them up.
/// </summary>
public sealed record ExploreReport
{
    public const int CurrentFormat = 1;
    public string Tool { get; init; } = "verify explore";
    public int Format { get; init; } = CurrentFormat;
    public required string Implementation { get; init; }
    public required int Depth { get; init; }
    public required string Ops { get; init; }
    public required int MaxLive { get; init; }
    public required bool Symmetry { get; init; }
    public required bool Deduplicate { get; init; }
    public ShardReport? Shard { get; init; }
    /// <summary>Shards this report joins (empty for a single run).</summary>
    public IReadOnlyList<int> MergedShards { get; init; } = [];
    public required IReadOnlyList<PresetReport> Presets { get; init; }

    public sealed record ShardReport(int Index, int Count, int Depth);

    public sealed record LevelReport(int Depth, long States, long NewStates, double Seconds);

    public sealed record FindingReport(string Kind, string Invariant, int Step, string Message, int Length,
        string Scenario, IReadOnlyDictionary<int, int> FailedAllocations, string? File, string? Replay, int? FromShard);

    public sealed record PresetReport
    {
        public required string Preset { get; init; }
        /// <summary>clean, finding, incomplete or error.</summary>
        public required string Result { get; init; }
        public required string End { get; init; }
        public required int CleanDepth { get; init; }
        public required long States { get; init; }
        public required long Distinct { get; init; }
        public required double StatesPerSecond { get; init; }
        public required double Seconds { get; init; }
        public required long PeakMemoryBytes { get; init; }
        public required int InitialChoices { get; init; }
        public required double CollisionProbability { get; init; }
        public required IReadOnlyList<LevelReport> Levels { get; init; }
        public IReadOnlyList<IReadOnlyList<int>> SymmetricDevices { get; init; } = [];
        public FindingReport? Finding { get; init; }
        public string? ToolError { get; init; }
    }

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>A report read back; null with the reason when the text is not one.</summary>
    public static ExploreReport? FromJson(string text, out string error)
    {
        error = "";
        try
        {
            var report = JsonSerializer.Deserialize<ExploreReport>(text, Json);
            if (report is null) error = "empty JSON";
            else if (report.Tool != "verify explore") error = $"not a verify explore report (tool '{report.Tool}')";
            else if (report.Format != CurrentFormat) error = $"report format {report.Format}; this verify reads format {CurrentFormat}";
            else return report;
        }
        catch (JsonException e)
        {
            // The serializer's message ends in "Path: $ | LineNumber: 0 | BytePositionInLine: 0.": said once, 1-based.
            string message = e.Message.Split(" Path: ")[0].TrimEnd('.');
            error = $"not a verify explore report: {message}" + (e.LineNumber is long line ? $" (line {line + 1}, byte {e.BytePositionInLine + 1})" : "");
        }
        return null;
    }

    public static string ResultOf(ExploreResult r) => r.End switch
    {
        ExploreEnd.Finding => "finding",
        ExploreEnd.ToolError => "error",
        ExploreEnd.Depth or ExploreEnd.Exhausted => "clean",
        _ => "incomplete",
    };

    public static PresetReport Of(ExploreResult r, string? file, string? replay) => new()
    {
        Preset = r.Preset,
        Result = ResultOf(r),
        End = r.End.ToString(),
        CleanDepth = r.CleanDepth,
        States = r.States,
        Distinct = r.Distinct,
        StatesPerSecond = Math.Round(r.StatesPerSecond),
        Seconds = Math.Round(r.Seconds, 2),
        PeakMemoryBytes = r.PeakMemoryBytes,
        InitialChoices = r.InitialChoices,
        CollisionProbability = r.CollisionProbability,
        Levels = [.. r.Levels.Select(l => new LevelReport(l.Depth, l.Transitions, l.NewStates, Math.Round(l.Seconds, 3)))],
        SymmetricDevices = r.SymmetricDevices,
        ToolError = r.ToolError,
        Finding = r.Finding is { } f
            ? new FindingReport(f.Finding.Kind.ToString(), f.Finding.Invariant, f.Finding.Step, f.Finding.Message, f.Length,
                ScenarioPrinter.Print(f.Scenario), f.FailedAllocations, file, replay, r.Shard?.Index)
            : null,
    };

    /// <summary>Joins the reports of the shards of one search: they must agree on everything but
    /// the shard index, and every index 0..n-1 must be there once. Depths up to the split are
    /// the same in every shard and counted once; deeper ones are added up (a state reached from
    /// two shards' parts is counted in each). Times are the longest shard's (they ran side by
    /// side); the shortest counterexample wins.</summary>
    public static ExploreReport? Merge(IReadOnlyList<(string Name, ExploreReport Report)> parts, out string error)
    {
        error = "";
        if (parts.Count == 0)
        {
            error = "nothing to merge";
            return null;
        }
        var first = parts[0].Report;
        if (first.Shard is not { } shard)
        {
            error = $"{parts[0].Name} is not a shard's report (run with --shard i/n)";
            return null;
        }
        foreach (var (name, r) in parts)
        {
            string? why = r.Shard is null ? "is not a shard's report (run with --shard i/n)"
                : r.Shard.Count != shard.Count || r.Shard.Depth != shard.Depth ? $"is shard {r.Shard.Index}/{r.Shard.Count} split at depth {r.Shard.Depth}, not of {shard.Count} split at depth {shard.Depth}"
                : r.Implementation != first.Implementation ? $"explored {r.Implementation}, not {first.Implementation}"
                : r.Depth != first.Depth ? $"explored to depth {r.Depth}, not {first.Depth}"
                : r.Ops != first.Ops || r.MaxLive != first.MaxLive || r.Symmetry != first.Symmetry || r.Deduplicate != first.Deduplicate ? "used other --ops, --max-live, symmetry or deduplication settings"
                : !r.Presets.Select(p => p.Preset).SequenceEqual(first.Presets.Select(p => p.Preset)) ? $"explored {string.Join(", ", r.Presets.Select(p => p.Preset))}, not {string.Join(", ", first.Presets.Select(p => p.Preset))}"
                : null;
            if (why is not null)
            {
                error = $"{name} {why}";
                return null;
            }
        }
        var indexes = parts.Select(p => p.Report.Shard!.Index).ToList();
        var twice = indexes.GroupBy(i => i).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null)
        {
            error = $"shard {twice.Key}/{shard.Count} is given twice ({string.Join(", ", parts.Where(p => p.Report.Shard!.Index == twice.Key).Select(p => p.Name))})";
            return null;
        }
        var missing = Enumerable.Range(0, shard.Count).Except(indexes).ToList();
        if (missing.Count > 0)
        {
            error = $"shard{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing.Select(i => $"{i}/{shard.Count}"))} missing: every part is needed for a verdict";
            return null;
        }
        var presets = first.Presets.Select((p, i) => MergePreset(parts.Select(x => x.Report.Presets[i]).ToList(), parts.Select(x => x.Report.Shard!.Index).ToList(), shard.Depth)).ToList();
        return first with { Shard = null, MergedShards = [.. indexes.Order()], Presets = presets };
    }

    private static PresetReport MergePreset(List<PresetReport> shards, List<int> indexes, int splitDepth)
    {
        var levels = new List<LevelReport>();
        int deepest = shards.Max(s => s.Levels.Count);
        for (int d = 1; d <= deepest; d++)
        {
            var at = shards.Select(s => s.Levels.FirstOrDefault(l => l.Depth == d)).Where(l => l is not null).Select(l => l!).ToList();
            if (at.Count == 0) continue;
            levels.Add(d <= splitDepth
                ? at[0]
                : new LevelReport(d, at.Sum(l => l.States), at.Sum(l => l.NewStates), at.Max(l => l.Seconds)));
        }
        var findings = shards.Select((s, i) => (s.Finding, Index: indexes[i])).Where(f => f.Finding is not null)
            .OrderBy(f => f.Finding!.Length).ThenBy(f => f.Index).ToList();
        var error = shards.FirstOrDefault(s => s.Result == "error");
        string result = findings.Count > 0 ? "finding" : error is not null ? "error" : shards.Any(s => s.Result == "incomplete") ? "incomplete" : "clean";
        long states = levels.Sum(l => l.States);
        double seconds = shards.Max(s => s.Seconds);
        return shards[0] with
        {
            Result = result,
            End = findings.Count > 0 ? nameof(ExploreEnd.Finding) : error?.End ?? shards.FirstOrDefault(s => s.Result == "incomplete")?.End
                  ?? (shards.All(s => s.End == nameof(ExploreEnd.Exhausted)) ? nameof(ExploreEnd.Exhausted) : nameof(ExploreEnd.Depth)),
            CleanDepth = shards.Min(s => s.CleanDepth),
            States = states,
            Distinct = 1 + levels.Sum(l => l.NewStates),
            Seconds = seconds,
            StatesPerSecond = seconds > 0 ? Math.Round(states / seconds) : 0,
            PeakMemoryBytes = shards.Max(s => s.PeakMemoryBytes),
            CollisionProbability = shards.Sum(s => s.CollisionProbability),
            Levels = levels,
            Finding = findings.Count > 0 ? findings[0].Finding! with { FromShard = findings[0].Index } : null,
            ToolError = error?.ToolError,
        };
    }
}
