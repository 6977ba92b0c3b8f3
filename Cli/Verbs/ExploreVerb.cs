using System.Globalization;
using DmaVerify.Cli.Composition;
using DmaVerify.Cli.Files;
using DmaVerify.Contracts;
using DmaVerify.Explore;
using DmaVerify.Fuzz.Engine;
using DmaVerify.Harness;
using DmaVerify.Model;

namespace DmaVerify.Cli.Verbs;

/// <summary>What `verify explore` was asked to do.</summary>
internal sealed record ExploreRequest
{
    public IReadOnlyList<string> Presets { get; init; } = [];
    public bool All { get; init; }
    public int Depth { get; init; } = ExploreOptions.DefaultDepth;
    public string? Implementation { get; init; }
    public string? Ops { get; init; }
    public long MaxStates { get; init; } = ExploreOptions.DefaultMaxStates;
    public int MaxLive { get; init; } = ExploreOptions.DefaultMaxLive;
    public double? TimeLimitSeconds { get; init; }
    public bool Json { get; init; }
    public string? Shard { get; init; }
    /// <summary>Null: <see cref="Explore.Shard.DefaultDepth"/>, or one above --depth when that is less.</summary>
    public int? ShardDepth { get; init; }
    public IReadOnlyList<string> Merge { get; init; } = [];
    public string? Artifacts { get; init; }
    public bool NoSymmetry { get; init; }
    public bool NoDedup { get; init; }
    public string ImplementationState { get; init; } = "new";
    public bool ListOps { get; init; }
    /// <summary>Null: one per core (one with an allocator plugged in).</summary>
    public int? Workers { get; init; }
    /// <summary>Whether --depth was given (--threads has its own default).</summary>
    public bool DepthGiven { get; init; } = true;
    /// <summary>Systematic concurrency testing with this many threads (<see cref="ExploreInterleavings"/>).</summary>
    public int? Threads { get; init; }
}

/// <summary>
/// `verify explore`: bounded-exhaustive checking of presets (every op sequence of the alphabet
/// up to a depth, breadth first, on the model and an implementation in lock step), a status line
/// per second, a table per preset; each finding is a shortest counterexample written under the
/// artifacts folder with the one `verify replay` line that runs it. <c>--merge</c> joins the
/// JSON reports of <c>--shard i/n</c> runs.
/// </summary>
internal static class ExploreVerb
{
    /// <param name="plugged">An allocator given with --allocator: the implementation explored
    /// (alone in its registry), named again in each replay line.</param>
    /// <param name="registry">The implementations --impl may name (tests pass one with a planted bug).</param>
    public static int Run(ExploreRequest request, TextWriter output, TextWriter error, PluggedImplementation? plugged = null, ImplementationRegistry? registry = null)
    {
        registry ??= plugged?.Registry;
        if (request.Merge.Count > 0) return Merge(request, output, error);
        registry ??= Implementations.Knowing(request.Implementation);

        // Every input is checked before any work.
        var presets = request.All ? Presets.Names.ToList() : request.Presets.Distinct(StringComparer.Ordinal).ToList();
        if (presets.Count == 0)
        {
            error.WriteLine($"verify explore: name a preset with --preset P (repeatable) or use --all; presets: {string.Join(", ", Presets.Names)}");
            return ExitCodes.BadInput;
        }
        var platforms = new List<ExplorePlatform>();
        foreach (var name in presets)
        {
            if (!ExplorePlatform.TryCreate(name, out var platform, out string why))
            {
                error.WriteLine($"verify explore: --preset {name}: {why}");
                return ExitCodes.BadInput;
            }
            platforms.Add(platform);
        }
        if (!registry.TryGet(request.Implementation, out var implementation, out string implError))
        {
            error.WriteLine($"verify explore: --impl: {implError}");
            return ExitCodes.BadInput;
        }
        if (request.Threads is not null)
            return plugged is not null
                ? Bad(error, "--threads cannot be used with --allocator (a plugged allocator runs one call at a time in its host process)")
                : ExploreInterleavings.Run(request, platforms, implementation, output, error);
        if (!OpKindNames.TryParse(request.Ops ?? "default", out var kinds, out string opsError))
        {
            error.WriteLine($"verify explore: --ops: {opsError}");
            return ExitCodes.BadInput;
        }
        if (request.Depth is < 1 or > 64)
            return Bad(error, $"--depth {request.Depth}: give 1 to 64");
        if (request.MaxStates < 1) return Bad(error, $"--max-states {request.MaxStates}: give at least 1");
        if (request.MaxLive is < 1 or > 64) return Bad(error, $"--max-live {request.MaxLive}: give 1 to 64");
        if (request.TimeLimitSeconds is double limit && !(limit > 0)) return Bad(error, $"--time-limit {limit}: give a number of seconds above 0");
        Shard? shard = null;
        if (request.ShardDepth is int orphan && request.Shard is null)
            return Bad(error, $"--shard-depth {orphan}: needs --shard i/n (it says where the frontier is split)");
        if (request.Shard is string shardText)
        {
            if (request.ShardDepth is int given && (given < 1 || given >= request.Depth))
                return Bad(error, $"--shard-depth {given}: the split must be above 0 and below --depth {request.Depth}");
            if (request.Depth < 2)
                return Bad(error, $"--shard {shardText}: needs --depth 2 or more (the frontier is split at a depth below it)");
            int atDepth = request.ShardDepth ?? Math.Min(Explore.Shard.DefaultDepth, request.Depth - 1);
            if (!Explore.Shard.TryParse(shardText, atDepth, out shard, out string shardError))
                return Bad(error, $"--shard: {shardError}");
        }
        var implState = request.ImplementationState switch
        {
            "new" => ImplementationStateChecks.NewStates,
            "every" => ImplementationStateChecks.EveryOp,
            "none" => ImplementationStateChecks.None,
            _ => (ImplementationStateChecks?)null,
        };
        if (implState is null) return Bad(error, $"--impl-state {request.ImplementationState}: give new, every or none");
        if (request.Workers is < 1 or > 256) return Bad(error, $"--workers {request.Workers}: give 1 to 256");
        // A plugged allocator is one host process whose calls are not known to be safe from two threads.
        int workers = plugged is not null ? 1 : request.Workers ?? Environment.ProcessorCount;
        var options = new ExploreOptions
        {
            Depth = request.Depth, Ops = kinds, MaxStates = request.MaxStates, MaxLive = request.MaxLive,
            Deduplicate = !request.NoDedup, Symmetry = !request.NoSymmetry, ImplementationState = implState.Value, Shard = shard, Workers = workers,
            TimeLimit = request.TimeLimitSeconds is double seconds ? TimeSpan.FromSeconds(seconds) : null,
        };
        if (request.ListOps) return ListOps(platforms, implementation, options, output);

        string artifacts = request.Artifacts ?? DefaultArtifacts();
        if (OutputPaths.WhyNotWritableFolder(artifacts) is string badArtifacts)
            return Bad(error, $"--artifacts {artifacts}: {badArtifacts}; nothing was run");

        var log = request.Json ? error : output;
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler stop = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += stop;
        var status = new StatusLine(log);
        var reports = new List<ExploreReport.PresetReport>();
        bool lost = false;
        try
        {
            foreach (var platform in platforms)
            {
                var alphabet = Explorer.AlphabetOf(platform, implementation.ModelOptions, options);
                log.WriteLine($"explore {platform.Preset}: depth {options.Depth}, {implementation.Name} against the model, ops {OpKindNames.Format(kinds)}, " +
                              $"scope {options.MaxLive} live mappings{Symmetric(alphabet, options)}{(shard is null ? "" : $", shard {shard} split at depth {shard.AtDepth}")}" +
                              (workers > 1 ? $", {workers} workers" : ""));
                var result = Explorer.Run(platform, implementation, options with { Status = status.Show, Cancel = cancel.Token });
                status.Clear();
                string? file = null, replay = null;
                if (result.Finding is { } finding)
                {
                    string command = CommandLine(platform.Preset, request, implementation.Name, shard);
                    string text = Counterexamples.Text(result, command);
                    try
                    {
                        file = Counterexamples.Write(artifacts, result, text);
                        replay = Counterexamples.ReplayCommand(file, implementation.Name + (plugged is null ? "" : " " + plugged.ReplayOptions), finding);
                    }
                    catch (Exception e) when (FileErrors.IsFileError(e))
                    {
                        lost = true; // the finding is printed below, whole
                        error.WriteLine($"{ExitCodes.FailurePrefix}{artifacts}: {FileErrors.Describe(e)}; the counterexample follows");
                    }
                    log.WriteLine($"{platform.Preset}: {finding.Finding.Kind} {finding.Finding.Invariant} at depth {finding.Length}; shortest counterexample:");
                    foreach (var line in (file is null ? text : ScenarioPrinter.Print(finding.Scenario)).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                        log.WriteLine("  " + line);
                }
                else
                {
                    log.WriteLine($"{platform.Preset}: {Summary(result)}");
                }
                reports.Add(ExploreReport.Of(result, file, replay));
                if (cancel.IsCancellationRequested) break;
            }
        }
        finally
        {
            Console.CancelKeyPress -= stop;
        }

        var report = new ExploreReport
        {
            Implementation = implementation.Name, Depth = options.Depth, Ops = OpKindNames.Format(kinds), MaxLive = options.MaxLive,
            Symmetry = options.Symmetry, Deduplicate = options.Deduplicate,
            Shard = shard is null ? null : new ExploreReport.ShardReport(shard.Index, shard.Count, shard.AtDepth),
            Presets = reports,
        };
        log.WriteLine();
        if (request.Json) output.WriteLine(report.ToJson());
        else output.Write(ExploreTable.Format(report));
        return Exit(report, lost, cancel.IsCancellationRequested, error);
    }

    private static int Bad(TextWriter error, string message)
    {
        error.WriteLine($"verify explore: {message}");
        return ExitCodes.BadInput;
    }

    private static int Exit(ExploreReport report, bool lost, bool cancelled, TextWriter error)
    {
        if (report.Presets.Any(p => p.Result == "finding")) return ExitCodes.Failed;
        if (cancelled) return 130;
        if (lost || report.Presets.Any(p => p.Result == "error"))
        {
            if (report.Presets.FirstOrDefault(p => p.Result == "error") is { } broken)
                error.WriteLine($"{ExitCodes.FailurePrefix}{broken.Preset}: {broken.ToolError}");
            return ExitCodes.Crashed;
        }
        return ExitCodes.Ok;
    }

    private static string Summary(ExploreResult r) => r.End switch
    {
        ExploreEnd.Depth => $"every sequence of up to {r.CleanDepth} ops ran clean",
        ExploreEnd.Exhausted => $"every reachable state explored by depth {r.Levels.Count}: clean at any depth",
        ExploreEnd.ToolError => $"no verdict: {r.ToolError}",
        _ => $"stopped ({r.End}): every sequence of up to {r.CleanDepth} ops ran clean; depth {r.RequestedDepth} was not reached",
    };

    private static string Symmetric(PresetAlphabet alphabet, ExploreOptions options)
    {
        var classes = alphabet.Symmetry.Classes.ToList();
        if (!options.Symmetry || classes.Count == 0) return "";
        return ", interchangeable devices " + string.Join("; ", classes.Select(c => string.Join(" ≡ ", c)));
    }

    /// <summary>The explore command that made a counterexample (written into its file).</summary>
    private static string CommandLine(string preset, ExploreRequest r, string implementation, Shard? shard)
    {
        var parts = new List<string> { "verify explore", "--preset", preset, "--depth", r.Depth.ToString(CultureInfo.InvariantCulture), "--impl", implementation };
        if (r.Ops is not null) parts.AddRange(["--ops", r.Ops]);
        if (r.MaxLive != ExploreOptions.DefaultMaxLive) parts.AddRange(["--max-live", r.MaxLive.ToString(CultureInfo.InvariantCulture)]);
        if (r.NoSymmetry) parts.Add("--no-symmetry");
        if (r.NoDedup) parts.Add("--no-dedup");
        if (shard is not null) parts.AddRange(["--shard", shard.ToString(), "--shard-depth", shard.AtDepth.ToString(CultureInfo.InvariantCulture)]);
        return string.Join(' ', parts);
    }

    private static int ListOps(List<ExplorePlatform> platforms, Implementation implementation, ExploreOptions options, TextWriter output)
    {
        foreach (var platform in platforms)
        {
            var alphabet = Explorer.AlphabetOf(platform, implementation.ModelOptions, options);
            var start = new ModelSystem(platform.Platform, implementation.ModelOptions).View;
            var choices = alphabet.Describe(start).ToList();
            output.WriteLine($"{platform.Preset}: {choices.Count} ops from the starting state (ops {OpKindNames.Format(options.Ops)}, scope {options.MaxLive} live mappings{Symmetric(alphabet, options)})");
            output.WriteLine($"  device {platform.BoundaryDevice} is added: 32-bit, segment boundary 4 KiB (scatter-gather boundaries)");
            foreach (var c in choices)
                output.WriteLine($"  {ScenarioPrinter.FormatOp(c.Op),-86} {c.Label}");
            output.WriteLine("  and, per live mapping: its unmap, a read of its first and a write of its last byte, an unmap with the wrong");
            output.WriteLine("  size and one with the wrong direction (function, for coherent); per unmapped handle (two per device): a read");
            output.WriteLine("  through it and a second unmap; a flush of each domain with queued IOVAs or cached walks; ticks of 9 and 10 ms");
            output.WriteLine("  while a flush timer is armed; iommu-map/unmap and accesses on unmanaged domains once one exists.");
            output.WriteLine();
        }
        return ExitCodes.Ok;
    }

    private static int Merge(ExploreRequest request, TextWriter output, TextWriter error)
    {
        var parts = new List<(string, ExploreReport)>();
        foreach (var path in request.Merge)
        {
            if (Directory.Exists(path))
                return Bad(error, $"--merge {path}: is a folder, not a --json report");
            if (!TextFile.TryRead(path, out string text, out string problem, out _))
                return Bad(error, $"--merge {path}: {problem}");
            if (text.Trim().Length == 0)
                return Bad(error, $"--merge {path}: empty file; give the --json output of a --shard run");
            if (ExploreReport.FromJson(text, out string why) is not { } report)
                return Bad(error, $"--merge {path}: {why}");
            parts.Add((path, report));
        }
        if (ExploreReport.Merge(parts, out string mergeError) is not { } merged)
            return Bad(error, $"--merge: {mergeError}");
        if (request.Json) output.WriteLine(merged.ToJson());
        else
        {
            output.WriteLine($"merged {merged.MergedShards.Count} shards of verify explore to depth {merged.Depth} ({merged.Implementation}, ops {merged.Ops}); " +
                             "states reached from several shards' parts are counted in each");
            output.Write(ExploreTable.Format(merged));
        }
        return Exit(merged, lost: false, cancelled: false, error);
    }

    /// <summary>artifacts/explore beside the nearest corpus/ folder (as `verify check` does), or the temp folder.</summary>
    private static string DefaultArtifacts() =>
        CheckVerb.FindCorpus() is string corpus
            ? Path.Combine(Path.GetDirectoryName(corpus)!, "artifacts", "explore")
            : Path.Combine(Path.GetTempPath(), "dmaverify-explore");

    /// <summary>The status line: in place on a terminal, a line per second otherwise.</summary>
    private sealed class StatusLine(TextWriter writer)
    {
        private readonly bool _live = ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected
                                      || ReferenceEquals(writer, Console.Error) && !Console.IsErrorRedirected;
        private int _width;

        public void Show(ExploreStatus s)
        {
            string line = string.Create(CultureInfo.InvariantCulture,
                $"  {s.Preset} depth {s.Depth}: frontier {s.Frontier:N0}, states {s.States:N0}, {s.StatesPerSecond:N0} states/s, distinct {s.Distinct:N0}, {s.MemoryBytes >> 20} MiB, {s.Elapsed.TotalSeconds:0}s");
            if (!_live)
            {
                writer.WriteLine(line);
                return;
            }
            writer.Write("\r" + line.PadRight(_width));
            _width = line.Length;
        }

        public void Clear()
        {
            if (!_live || _width == 0) return;
            writer.Write("\r" + new string(' ', _width) + "\r");
            _width = 0;
        }
    }
}
