using System.Globalization;

namespace DmaVerify.Fuzz.Engine;

/// <summary>
/// The engine's flags, spelled as libFuzzer spells them (<c>-name=value</c>, single dash), with
/// its defaults where they make sense here. Positional arguments are corpus folders (the first
/// one receives new inputs) or, in crash-minimisation and run-files mode, input files.
/// </summary>
public sealed record FuzzOptions
{
    /// <summary>Inputs to run; -1 = no limit.</summary>
    public long Runs { get; init; } = -1;
    /// <summary>Seconds; 0 = no limit.</summary>
    public int MaxTotalTime { get; init; }
    /// <summary>The time limit stops the run only once this many inputs ran (not a libFuzzer
    /// flag: `verify check` sets it, so a machine starved of CPU still runs the work a fuzz
    /// item's verdict stands on instead of passing after a handful of inputs); 0 = none.</summary>
    public long MinRuns { get; init; }
    /// <summary>Longest input the mutator makes; 0 = the default (<see cref="DefaultMaxLen"/>, or
    /// the longest corpus file if that is longer).</summary>
    public int MaxLen { get; init; }
    /// <summary>0 = a seed from the clock (printed, so the run can be repeated).</summary>
    public uint Seed { get; init; }
    /// <summary>Per-input timeout in seconds (a watchdog writes timeout-SHA1 and exits).</summary>
    public int Timeout { get; init; } = 1200;
    public int Jobs { get; init; }
    public int Workers { get; init; }
    public bool Merge { get; init; }
    public bool MinimizeCrash { get; init; }
    public string ArtifactPrefix { get; init; } = "";
    /// <summary>Re-read the first corpus folder every N seconds (how parallel jobs share); 0 = never.</summary>
    public int Reload { get; init; } = 1;
    /// <summary>Off: inputs never join the corpus for new coverage (blind mutation of the seeds):
    /// the baseline that shows what coverage guidance buys.</summary>
    public bool UseCoverage { get; init; } = true;
    /// <summary>Comparison feedback (libFuzzer's flag): the code under test is instrumented with
    /// hooks on its 64-bit comparisons; how close an input brings a comparison's operands counts
    /// as coverage (value profile), and the mutator copies recent operands into inputs
    /// (input-to-state). docs/fuzzing.md has the measurement behind the default.</summary>
    public bool UseValueProfile { get; init; } = DefaultUseValueProfile;

    /// <summary>Whether comparison feedback is on when -use_value_profile is not given.</summary>
    public const bool DefaultUseValueProfile = false;
    /// <summary>Print the stat:: lines at the end.</summary>
    public bool PrintFinalStats { get; init; } = true;
    public int ErrorExitCode { get; init; } = 1;
    public int TimeoutExitCode { get; init; } = 1;
    /// <summary>Check invariants after every n-th step instead of once per input.</summary>
    public int InvariantEvery { get; init; }
    /// <summary>The implementation checked against the model; null = the registry's default.</summary>
    public string? Implementation { get; init; }
    /// <summary>0: run the targets from instrumented copies when available; 1: never instrument.</summary>
    public bool NoInstrument { get; init; }
    /// <summary>Where instrumented copies are cached (default: $DMAVERIFY_CACHE or ~/.cache/dmaverify/instrumented).</summary>
    public string? InstrumentCache { get; init; }

    public IReadOnlyList<string> Inputs { get; init; } = [];

    /// <summary>Far beyond what the decoder reads (4 + 4096 × 16 bytes); larger is a typo.</summary>
    public const int MaxMaxLen = 1 << 24;
    /// <summary>More processes than any machine runs fuzzers on is a typo.</summary>
    public const int MaxJobs = 4096;
    /// <summary>Appended to the "replay with:" line (e.g. the --allocator the run was given).</summary>
    public string ReplaySuffix { get; init; } = "";

    /// <summary>4-byte header + 16 op records: short op lists keep executions fast.</summary>
    public const int DefaultMaxLen = 4 + 16 * 16;

    /// <summary>Every flag with its help text, as <c>verify fuzz --help</c> prints them.</summary>
    public static readonly IReadOnlyList<(string Flag, string Help)> Flags =
    [
        ("-runs=N", "number of inputs to run (-1 = no limit; default -1)"),
        ("-max_total_time=S", "stop after S seconds (0 = no limit)"),
        ("-max_len=N", $"longest input to generate (default {DefaultMaxLen}: 16 ops)"),
        ("-seed=N", "random seed (0 = from the clock; printed as INFO: Seed)"),
        ("-timeout=S", "per-input timeout in seconds; writes timeout-SHA1 (default 1200)"),
        ("-jobs=N", "run N fuzzing jobs as separate processes sharing the first corpus folder; logs to fuzz-J.log"),
        ("-workers=N", "how many jobs run at once (default min(jobs, cores/2))"),
        ("-merge=1", "add the inputs of CORPUS_DIR 2..n that bring new coverage to CORPUS_DIR 1"),
        ("-minimize_crash=1", "shrink the crash file given as argument; writes minimized-from-SHA1"),
        ("-artifact_prefix=P", "where crash-, timeout- and minimized- files go (a folder ends with /)"),
        ("-reload=S", "re-read the first corpus folder every S seconds (default 1; 0 = never)"),
        ("-use_coverage=0", "blind mode: ignore coverage (for comparison)"),
        ("-use_value_profile=1", $"comparison feedback: operand distances of 64-bit comparisons count as coverage, and the mutator copies their operands into inputs (default {(DefaultUseValueProfile ? 1 : 0)})"),
        ("-invariant_every=N", "check invariants after every N-th op instead of once per input"),
        ("-impl=NAME", "implementation checked against the model (default optimized)"),
        ("-no_instrument=1", "run the uninstrumented model and implementation (outcome features only)"),
        ("-instrument_cache=DIR", "folder for instrumented copies (default $DMAVERIFY_CACHE or ~/.cache/dmaverify/instrumented)"),
        ("-error_exitcode=N", "exit code when a crash is found (default 1)"),
        ("-timeout_exitcode=N", "exit code on a timeout (default 1)"),
        ("-print_final_stats=0", "omit the stat:: lines at the end"),
    ];

    /// <summary>Parses libFuzzer-style arguments; false with a message naming the bad argument.</summary>
    public static bool TryParse(IEnumerable<string> args, out FuzzOptions options, out string error)
    {
        options = new FuzzOptions();
        error = "";
        var inputs = new List<string>();
        foreach (string arg in args)
        {
            if (!arg.StartsWith('-') || arg == "-")
            {
                inputs.Add(arg);
                continue;
            }
            string body = arg.TrimStart('-');
            int eq = body.IndexOf('=');
            if (eq <= 0)
            {
                error = $"flag '{arg}' needs a value: -name=value (libFuzzer style)";
                return false;
            }
            string name = body[..eq], value = body[(eq + 1)..];
            string? problem = null;
            options = name switch
            {
                "runs" => options with { Runs = Long(value, -1, ref problem) },
                "max_total_time" => options with { MaxTotalTime = Int(value, 0, ref problem) },
                "max_len" => options with { MaxLen = Int(value, 0, ref problem, MaxMaxLen) },
                "seed" => options with { Seed = (uint)Int(value, 0, ref problem, int.MaxValue - 1) },
                "timeout" => options with { Timeout = Int(value, 1, ref problem) },
                "jobs" => options with { Jobs = Int(value, 0, ref problem, MaxJobs) },
                "workers" => options with { Workers = Int(value, 0, ref problem, MaxJobs) },
                "merge" => options with { Merge = Int(value, 0, ref problem) != 0 },
                "minimize_crash" => options with { MinimizeCrash = Int(value, 0, ref problem) != 0 },
                "artifact_prefix" => options with { ArtifactPrefix = value },
                "reload" => options with { Reload = Int(value, 0, ref problem) },
                "use_coverage" => options with { UseCoverage = Int(value, 0, ref problem) != 0 },
                "use_value_profile" => options with { UseValueProfile = Int(value, 0, ref problem) != 0 },
                "invariant_every" => options with { InvariantEvery = Int(value, 0, ref problem) },
                "impl" => options with { Implementation = value },
                "no_instrument" => options with { NoInstrument = Int(value, 0, ref problem) != 0 },
                "instrument_cache" => options with { InstrumentCache = value },
                // 0 would report a finding as a clean run; above 255 the shell sees it truncated.
                "error_exitcode" => options with { ErrorExitCode = Int(value, 1, ref problem, 255) },
                "timeout_exitcode" => options with { TimeoutExitCode = Int(value, 1, ref problem, 255) },
                "print_final_stats" => options with { PrintFinalStats = Int(value, 0, ref problem) != 0 },
                _ => Unknown(options, name, ref problem),
            };
            if (problem is not null)
            {
                error = $"flag '{arg}': {problem}";
                return false;
            }
        }
        options = options with { Inputs = inputs };
        return true;
    }

    private static FuzzOptions Unknown(FuzzOptions options, string name, ref string? problem)
    {
        problem = $"unknown flag; known: {string.Join(" ", Flags.Select(f => f.Flag[..f.Flag.IndexOf('=')]))}";
        _ = name;
        return options;
    }

    private static long Long(string value, long min, ref string? problem)
    {
        if (long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) && n >= min) return n;
        problem = $"'{value}' is not an integer ≥ {min}";
        return min;
    }

    private static int Int(string value, int min, ref string? problem, int max = int.MaxValue)
    {
        if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= min && n <= max) return n;
        problem = max == int.MaxValue ? $"'{value}' is not an integer ≥ {min}" : $"'{value}' is not an integer from {min} to {max}";
        return min;
    }
}
