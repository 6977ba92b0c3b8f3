using System.Globalization;
using System.Text.Json;
using DmaVerify.Contracts;
using DmaVerify.Explore;
using DmaVerify.Harness;

namespace DmaVerify.Cli.Verbs;

/// <summary>
/// `verify explore --threads N`: systematic concurrency testing of each preset
/// (<see cref="InterleavingSearch"/>): every schedule of N threads' short op lists on one shared
/// domain, each history judged by the linearizability checker. Prints a line per preset, and
/// for a finding the setup, each thread's calls, the schedule and the history, with the command
/// that finds it again (the search is deterministic).
/// </summary>
internal static class ExploreInterleavings
{
    public const int MaxDepth = 4;

    public static int Run(ExploreRequest request, IReadOnlyList<ExplorePlatform> platforms, Implementation implementation, TextWriter output, TextWriter error)
    {
        int threads = request.Threads!.Value;
        int depth = request.DepthGiven ? request.Depth : InterleavingOptions.DefaultDepth;
        if (threads is < 2 or > 3) return Bad(error, $"--threads {threads}: give 2 or 3");
        if (depth is < 1 or > MaxDepth) return Bad(error, $"--depth {depth}: with --threads, give 1 to {MaxDepth} calls per thread");
        if (request.TimeLimitSeconds is double limit && !(limit > 0)) return Bad(error, $"--time-limit {limit}: give a number of seconds above 0");
        foreach (var (given, name) in new[] { (request.Shard is not null, "--shard"), (request.Ops is not null, "--ops"), (request.ListOps, "--list-ops"), (request.Workers is not null, "--workers") })
            if (given) return Bad(error, $"{name} cannot be used with --threads (the concurrency search has its own alphabet and runs one schedule at a time)");

        var options = new InterleavingOptions
        {
            Threads = threads, Depth = depth,
            TimeLimit = request.TimeLimitSeconds is double seconds ? TimeSpan.FromSeconds(seconds) : null,
        };
        var log = request.Json ? error : output;
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler stop = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += stop;
        var results = new List<InterleavingResult>();
        try
        {
            foreach (var platform in platforms)
            {
                var devices = InterleavingSearch.DevicesOf(platform.Platform);
                log.WriteLine($"explore {platform.Preset}: {threads} threads on device{(devices.Count > 1 ? "s" : "")} {string.Join(" and ", devices)} " +
                              $"(one domain), every list of 1 to {depth} calls (map a page, unmap #0, read #0) per thread, every schedule; {implementation.Name} judged by linearizability against the model");
                var result = new InterleavingSearch(platform.Platform, implementation, options).Run(cancel.Token);
                results.Add(result);
                log.WriteLine($"{platform.Preset}: {Summary(result)}");
                if (result.Finding is { } finding) Describe(finding, platform.Preset, request, implementation.Name, threads, depth, log);
                if (cancel.IsCancellationRequested) break;
            }
        }
        finally
        {
            Console.CancelKeyPress -= stop;
        }
        if (request.Json) output.WriteLine(JsonSerializer.Serialize(results.Select(Json), new JsonSerializerOptions { WriteIndented = true }));
        if (results.Any(r => r.Finding is not null)) return ExitCodes.Failed;
        if (cancel.IsCancellationRequested) return 130;
        if (results.FirstOrDefault(r => r.ToolError is not null) is { } broken)
        {
            error.WriteLine($"{ExitCodes.FailurePrefix}{broken.Preset}: {broken.ToolError}");
            return ExitCodes.Crashed;
        }
        return ExitCodes.Ok;
    }

    private static string Summary(InterleavingResult r)
    {
        string counts = string.Create(CultureInfo.InvariantCulture,
            $"{r.OpLists:N0} op-list combinations, {r.Schedules:N0} schedules, {r.SchedulesPerSecond:N0} schedules/s, {r.Elapsed.TotalSeconds:0.0}s");
        if (r.Finding is { } f) return $"FAIL {f.Finding.Kind} {f.Finding.Invariant} after {counts}";
        if (r.ToolError is { } e) return $"no verdict ({counts}): {e}";
        return r.Complete ? $"every schedule linearizable ({counts})" : $"stopped, no finding so far ({counts}); not every schedule was run";
    }

    private static void Describe(InterleavingFinding f, string preset, ExploreRequest request, string implementation, int threads, int depth, TextWriter log)
    {
        foreach (var op in f.Setup) log.WriteLine($"  setup     {ScenarioPrinter.FormatOp(op)}");
        for (int t = 0; t < f.Threads.Count; t++)
            foreach (var op in f.Threads[t]) log.WriteLine($"  thread {t}  {ScenarioPrinter.FormatOp(op)}");
        log.WriteLine($"  schedule (the thread chosen at each point where several could run, by position among them): {string.Join(",", f.Schedule)}");
        log.WriteLine("  history (logical times [invoked..returned]; overlapping calls ran in each other's windows):");
        foreach (var line in f.History.Split('\n', StringSplitOptions.RemoveEmptyEntries)) log.WriteLine("    " + line);
        foreach (var line in f.Finding.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries).Take(1)) log.WriteLine("  " + line);
        log.WriteLine($"  find it again: verify explore --preset {preset} --threads {threads} --depth {depth} --impl {implementation}");
    }

    private static object Json(InterleavingResult r) => new
    {
        preset = r.Preset, implementation = r.Implementation, threads = r.Threads, depth = r.Depth,
        opLists = r.OpLists, schedules = r.Schedules, seconds = Math.Round(r.Elapsed.TotalSeconds, 3),
        result = r.Finding is not null ? "finding" : r.ToolError is not null ? "error" : r.Complete ? "pass" : "stopped",
        finding = r.Finding is { } f ? new { kind = f.Finding.Kind.ToString(), invariant = f.Finding.Invariant, schedule = f.Schedule, history = f.History } : null,
        toolError = r.ToolError,
    };

    private static int Bad(TextWriter error, string message)
    {
        error.WriteLine($"verify explore: {message}");
        return ExitCodes.BadInput;
    }
}
