using DmaVerify.Cli.Composition;
using DmaVerify.Contracts;
using DmaVerify.Cli.Files;
using DmaVerify.Cli.Text;
using DmaVerify.Model;

namespace DmaVerify.Cli.Verbs;

/// <summary>`verify replay FILE`: run a scenario on the reference model and print every op in
/// the text form with its outcome, the invariant violations it introduced and any difference
/// from the outcome the file recorded.</summary>
internal static class ReplayVerb
{
    /// <summary>Fuzz inputs (crash files, corpus files) are replayed when a target is named with
    /// --target or can be told from the folder; otherwise FILE must be a scenario.</summary>
    /// <param name="plugged">An allocator given with --allocator: the implementation to run
    /// beside the model (and the one an allocator case is replayed on).</param>
    /// <param name="failAlloc">STEP:N specs (--fail-alloc): with --impl, that step runs with the
    /// implementation's N-th internal allocation failing.</param>
    public static int Run(string path, string? target, string? implementation, string? regressionDir, TextWriter output, TextWriter error, IScenarioText text,
        PluggedImplementation? plugged = null, IReadOnlyList<string>? failAlloc = null)
    {
        var faults = new Dictionary<int, int>();
        foreach (var spec in failAlloc ?? [])
        {
            var parts = spec.Split(':');
            if (parts.Length != 2 || !int.TryParse(parts[0], out int step) || !int.TryParse(parts[1], out int nth) || step < 0 || nth < 1 || !faults.TryAdd(step, nth))
            {
                error.WriteLine($"verify replay: --fail-alloc {spec}: give STEP:N (step from 0, allocation from 1), each step once");
                return ExitCodes.BadInput;
            }
        }
        if (faults.Count > 0 && ((implementation ?? plugged?.Implementation.Name) is null || target is not null))
        {
            error.WriteLine("verify replay: --fail-alloc needs --impl NAME and a scenario file: it fails the implementation's allocations");
            return ExitCodes.BadInput;
        }
        if (target is null && AllocatorCaseReplay.IsCase(path))
            return AllocatorCaseReplay.Run(path, implementation, plugged, output, error);
        var registry = plugged?.Registry ?? Implementations.Knowing(implementation);
        implementation ??= plugged?.Implementation.Name;
        // A file that is not a scenario may be a fuzz input: its folder can name the target.
        // (A large file is a scenario when it starts as text: it is streamed, never read whole.)
        bool large = TextLines.IsLarge(path);
        if (target is null && large && !TextLines.StartsAsText(path)) target = FuzzInputReplay.GuessTarget(path);
        if (target is null && !large && File.Exists(path) && !ParsesAsScenario(path, text))
        {
            target = FuzzInputReplay.GuessTarget(path);
            if (target is null && !TextFile.TryRead(path, out _, out string problem, out bool binary) && binary)
            {
                error.WriteLine($"{path}: error: {problem}; if it is a fuzz input, name its target: --target {string.Join("|", Fuzz.Targets.FuzzTargets.Names)}");
                return ExitCodes.BadInput;
            }
        }
        if (regressionDir is not null && OutputPaths.WhyNotWritableFolder(regressionDir) is string badDir)
        {
            error.WriteLine($"verify replay: --regression-dir {regressionDir}: {badDir}; nothing was run");
            return ExitCodes.BadInput;
        }
        if (target is not null)
            return FuzzInputReplay.Run(path, target, implementation ?? registry.Default.Name, regressionDir, output, error, text, registry);
        if (implementation is not null)
            return ScenarioRefinementReplay.Run(path, implementation, output, error, text, registry, faults);
        return Run(path, output, error, text);
    }

    /// <summary>Whether the file reads as text and parses as a scenario (a parser that throws
    /// counts as yes: the scenario path reports that bug properly).</summary>
    private static bool ParsesAsScenario(string path, IScenarioText text)
    {
        if (!TextFile.TryRead(path, out string content, out _, out _)) return false;
        try { return text.Parse(content, path).Success; }
        catch (Exception) { return true; }
    }

    /// <summary>Runs the scenario on the model, printing each step as it is run: the whole file
    /// is checked first (one clear error per problem, nothing run), then its steps stream
    /// through the model, so a file of any length replays in memory of the live state.</summary>
    public static int Run(string path, TextWriter output, TextWriter error, IScenarioText text)
    {
        Scenario header;
        IEnumerable<ScenarioStep> steps;
        long count;
        if (TextLines.IsLarge(path))
        {
            if (!ScenarioLoader.TryValidateLarge(path, error, out header, out count)) return ExitCodes.BadInput;
            steps = ScenarioParser.StreamSteps(TextLines.Read(path), path);
        }
        else
        {
            if (!ScenarioLoader.TryLoad(path, text, error, out header, out int exit)) return exit;
            steps = header.Steps;
            count = header.Steps.Count;
        }

        var printer = new StepPrinter(path, header, count, output, text);
        ReplayReport report;
        try
        {
            report = ScenarioRunner.Stream(header, steps, printer.Step, printer.Start);
        }
        catch (TextLines.NotTextException e)
        {
            error.WriteLine($"{path}: error: {e.Message}");
            return ExitCodes.BadInput;
        }
        if (ScenarioLoader.ReportUnrunnable(path, report, error) is int bad) return bad;
        printer.End(report);
        return ExitCodeOf(report);
    }

    /// <summary>Prints a replay as it runs, in the layout of <see cref="Write"/>.</summary>
    private sealed class StepPrinter(string path, Scenario header, long count, TextWriter output, IScenarioText text)
    {
        public void Start(IReadOnlyList<Violation> initial, ToolCrash? crash)
        {
            string overrides = header.Devices.Count == 0 ? "" : $", {Plural(header.Devices.Count, "device override")}";
            output.WriteLine($"replay {path}: preset {header.Preset}{overrides}, {Plural(count, "step")}");
            if (initial.Count > 0)
            {
                output.WriteLine("initial state:");
                foreach (var v in initial)
                    output.WriteLine($"  violation {v}");
            }
            if (crash is { Step: null })
                output.WriteLine($"  CRASH {crash}");
        }

        public void Step(StepRecord step) => WriteStep(step, output, text);

        public void End(ReplayReport report) => output.WriteLine(Summary(report));
    }

    public static int ExitCodeOf(ReplayReport report) => report.Status switch
    {
        ReplayStatus.Passed => ExitCodes.Ok,
        ReplayStatus.Failed => ExitCodes.Failed,
        ReplayStatus.Crashed => ExitCodes.Crashed,
        _ => ExitCodes.BadInput,
    };

    public static void Write(string path, ReplayReport report, TextWriter output, IScenarioText text)
    {
        var scenario = report.Scenario;
        string overrides = scenario.Devices.Count == 0 ? "" : $", {Plural(scenario.Devices.Count, "device override")}";
        output.WriteLine($"replay {path}: preset {scenario.Preset}{overrides}, {Plural(report.StepCount, "step")}");

        if (report.InitialViolations.Count > 0)
        {
            output.WriteLine("initial state:");
            foreach (var v in report.InitialViolations)
                output.WriteLine($"  violation {v}");
        }
        if (report.Crash is { Step: null } setupCrash)
            output.WriteLine($"  CRASH {setupCrash}");

        foreach (var step in report.Steps)
            WriteStep(step, output, text);

        output.WriteLine(Summary(report));
    }

    private static void WriteStep(StepRecord step, TextWriter output, IScenarioText text)
    {
        if (step.Amends)
        {
            // Found by the full check of the final state after the step was printed.
            foreach (var v in step.Violations)
                output.WriteLine($"  violation {v} (found by the full check of the final state)");
            return;
        }
        output.WriteLine($"step {step.Index}: {Safe(() => text.FormatOp(step.Op), step.Op)}");
        if (step.Outcome is not null)
            output.WriteLine($"  => {Safe(() => text.FormatOutcome(step.Outcome), step.Outcome)}");
        foreach (var v in step.Violations)
            output.WriteLine($"  violation {v}");
        if (step.Mismatch is not null && step.Expected is not null && step.Outcome is not null)
            output.WriteLine($"  mismatch: expected {Safe(() => text.FormatOutcome(step.Expected), step.Expected)}, " +
                             $"got {Safe(() => text.FormatOutcome(step.Outcome), step.Outcome)}");
        if (step.Crash is not null)
            output.WriteLine($"  CRASH {step.Crash}");
    }

    public static string Summary(ReplayReport report)
    {
        string counts = $"{report.StepsCompleted} of {Plural(report.StepCount, "step")} run, " +
                        $"{Plural(report.ViolationCount, "violation")}, {Plural(report.MismatchCount, "mismatch", "mismatches")}";
        return report.Status switch
        {
            ReplayStatus.Passed => $"result: PASSED ({counts})",
            ReplayStatus.Failed => $"result: FAILED ({counts})",
            ReplayStatus.Crashed => $"result: CRASHED ({counts}); {report.Crash} -- this is a bug in DmaVerify, not in the scenario",
            _ => $"result: INVALID ({report.Error})",
        };
    }

    internal static string Plural(long n, string one, string? many = null) => $"{n} {(n == 1 ? one : many ?? one + "s")}";

    /// <summary>Formats with the text form, falling back to the record's own text if the
    /// printer throws (a printer bug must not hide the replay).</summary>
    private static string Safe(Func<string> format, object value)
    {
        try { return format(); }
        catch (Exception e) { return $"{value} (printer failed: {e.GetType().Name})"; }
    }
}
