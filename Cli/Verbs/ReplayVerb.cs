using DmaVerify.Cli.Composition;
using DmaVerify.Contracts;
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
    public static int Run(string path, string? target, string? implementation, string? regressionDir, TextWriter output, TextWriter error, IScenarioText text,
        PluggedImplementation? plugged = null)
    {
        if (target is null && AllocatorCaseReplay.IsCase(path))
            return AllocatorCaseReplay.Run(path, implementation, plugged, output, error);
        var registry = plugged?.Registry ?? Implementations.Registry;
        implementation ??= plugged?.Implementation.Name;
        if (target is null && File.Exists(path) && !LooksLikeText(path, text))
            target = FuzzInputReplay.GuessTarget(path);
        if (target is not null)
            return FuzzInputReplay.Run(path, target, implementation ?? registry.Default.Name, regressionDir, output, error, text, registry);
        if (implementation is not null)
            return ScenarioRefinementReplay.Run(path, implementation, output, error, text, registry);
        int exit = Run(path, output, error, text);
        if (exit == ExitCodes.BadInput && File.Exists(path) && !LooksLikeText(path, text))
            error.WriteLine($"{path}: note: if this is a fuzz input, name its target: --target {string.Join("|", Fuzz.Targets.FuzzTargets.Names)}");
        return exit;
    }

    /// <summary>Whether the file should go the text-form way: it parses as a scenario, or it
    /// cannot be read or the parser throws (that path reports both properly).</summary>
    private static bool LooksLikeText(string path, IScenarioText text)
    {
        string content;
        try { content = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return true; }
        try { return text.Parse(content, path).Success; }
        catch (Exception) { return true; } // a parser bug: ScenarioLoader reports it as exit 3
    }

    public static int Run(string path, TextWriter output, TextWriter error, IScenarioText text)
    {
        if (!ScenarioLoader.TryLoadAndRun(path, text, error, out var scenario, out var report, out int exit))
            return exit;

        Write(path, report, output, text);
        return ExitCodeOf(report);
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
        {
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

        output.WriteLine(Summary(report));
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

    internal static string Plural(int n, string one, string? many = null) => $"{n} {(n == 1 ? one : many ?? one + "s")}";

    /// <summary>Formats with the text form, falling back to the record's own text if the
    /// printer throws (a printer bug must not hide the replay).</summary>
    private static string Safe(Func<string> format, object value)
    {
        try { return format(); }
        catch (Exception e) { return $"{value} (printer failed: {e.GetType().Name})"; }
    }
}
