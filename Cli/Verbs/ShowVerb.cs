using DmaVerify.Contracts;
using DmaVerify.Cli.Composition;
using DmaVerify.Harness;
using DmaVerify.Pictures;
using DmaVerify.Pictures.Svg;
using DmaVerify.Cli.Files;
using DmaVerify.Cli.Text;
using DmaVerify.Fuzz.Engine;
using DmaVerify.Model;

namespace DmaVerify.Cli.Verbs;

/// <summary>`verify show FILE [--svg OUT]`: run a scenario on the reference model and print the
/// IOVA space of every domain and the DMA window of every device in the state it ends in, or
/// draw it as an SVG picture with the replay's invariant violations highlighted.</summary>
internal static class ShowVerb
{
    /// <param name="plugged">An allocator given with --allocator: shown beside the model (as
    /// --impl would) with its own view of each IOVA space.</param>
    public static int Run(string path, string? svgPath, string? implementationName, TextWriter output, TextWriter error, IScenarioText text,
        PluggedImplementation? plugged = null)
    {
        Implementation? implementation = null;
        implementationName ??= plugged?.Implementation.Name;
        if (implementationName is not null)
        {
            if (!(plugged?.Registry ?? Implementations.Knowing(implementationName)).TryGet(implementationName, out var chosen, out string why))
            {
                error.WriteLine($"verify show: --impl: {why}");
                return ExitCodes.BadInput;
            }
            if (svgPath is not null)
            {
                error.WriteLine(plugged is not null
                    ? "verify show: --svg and --allocator cannot be combined: the picture shows the model's state; --allocator prints the allocator's beside it"
                    : "verify show: --svg and --impl cannot be combined: the picture shows one state");
                return ExitCodes.BadInput;
            }
            implementation = chosen;
        }
        if (implementationName is not null && TextLines.IsLarge(path))
        {
            error.WriteLine($"verify show: --impl compares the two runs step by step, which needs the scenario in memory; {path} is larger than {TextLines.StreamAbove >> 20} MiB and is streamed: show it without --impl");
            return ExitCodes.BadInput;
        }
        if (svgPath is not null && OutputPaths.WhyNotWritableFile(svgPath) is string bad)
        {
            error.WriteLine($"{ScenarioLoader.Shown(svgPath)}: error: cannot write the SVG there: {bad}");
            return ExitCodes.BadInput;
        }
        if (!ScenarioLoader.TryLoadAndRun(path, text, error, out var scenario, out var report, out int exit, implementation?.ModelOptions))
            return exit;

        if (report.FinalState is { } state)
        {
            if (implementation is not null)
            {
                if (!TryShowBeside(path, implementation, scenario, report, state, output, error, text, plugged))
                    return ExitCodes.Failed;
            }
            else if (svgPath is null)
                IovaSpaceTextRenderer.Render(IovaSpaceView.Of(state), Title(path, scenario, report), output);
            else if (!TryWriteSvg(svgPath, Svg(path, scenario, report, state, text), state, report, output, error))
                return ExitCodes.Crashed;
        }

        switch (report.Status)
        {
            case ReplayStatus.Crashed:
                error.WriteLine($"{path}: {report.Crash} -- this is a bug in DmaVerify, not in the scenario");
                break;
            case ReplayStatus.Failed:
                error.WriteLine($"{path}: {ReplayVerb.Plural(report.ViolationCount, "invariant violation")}, " +
                                $"{ReplayVerb.Plural(report.MismatchCount, "expected-outcome mismatch", "expected-outcome mismatches")}; " +
                                $"run 'verify replay {path}' for details");
                break;
        }
        return ReplayVerb.ExitCodeOf(report);
    }

    /// <summary>Runs the steps the model completed on <paramref name="implementation"/> and prints
    /// both final states side by side, with the steps whose outcomes differ. False (after one
    /// line naming the step) when the implementation throws: a finding about it.</summary>
    private static bool TryShowBeside(string path, Implementation implementation, Scenario scenario, ReplayReport report, SystemState modelState,
                                      TextWriter output, TextWriter error, IScenarioText text, PluggedImplementation? plugged)
    {
        if (!scenario.TryBuildPlatform(out var platform, out _)) return true; // the model replay already reported it
        var outcomeDifferences = new List<string>();
        SystemState implState;
        ISystemUnderTest? sut = null;
        int step = -1;
        try
        {
            sut = implementation.Create(platform);
            for (step = 0; step < report.StepsCompleted; step++)
            {
                var modelStep = report.Steps[step];
                var outcome = sut.Apply(modelStep.Op);
                string implText = text.FormatOutcome(outcome);
                string modelText = modelStep.Outcome is null ? "?" : text.FormatOutcome(modelStep.Outcome);
                if (WithoutMessage(implText) != WithoutMessage(modelText))
                    outcomeDifferences.Add($"step {step}: {text.FormatOp(modelStep.Op)} => model: {modelText} | {implementation.Name}: {implText}");
            }
            step = -1;
            implState = sut.ExportState();
        }
        catch (Exception e)
        {
            string where = step < 0 ? "exporting its state" : $"step {step}";
            error.WriteLine($"verify show: {implementation.Name} threw at {where}: {e.GetType().Name}: {e.Message} " +
                            $"(a finding about {implementation.Name}; 'verify replay {path} --impl {implementation.Name}' judges it)");
            return false;
        }
        new StateComparison(IovaSpaceView.Of(modelState), IovaSpaceView.Of(implState), implementation.Name)
            .Render(Title(path, scenario, report), outcomeDifferences, output);
        if (plugged is not null && sut is not null)
        {
            try
            {
                AllocatorViewRenderer.Render(plugged.Allocator.Name, plugged.AllocatorsOf(sut), implState, output);
            }
            catch (Exception e)
            {
                error.WriteLine($"verify show: {plugged.Allocator.Name} failed when asked for its ranges: {e.GetType().Name}: {e.Message} (a finding about the allocator)");
                return false;
            }
        }
        return true;
    }

    /// <summary>An outcome's text without a failure's quoted explanation: the two sides word
    /// their reasons differently; what is compared is what happened.</summary>
    private static string WithoutMessage(string outcome) =>
        System.Text.RegularExpressions.Regex.Replace(outcome, "\\s\"(?:[^\"\\\\]|\\\\.)*\"$", "");

    private static string Title(string path, Scenario scenario, ReplayReport report)
    {
        string when = report.Crash is null
            ? $"after {ReplayVerb.Plural(report.StepsCompleted, "step")}"
            : $"after {report.StepsCompleted} of {ReplayVerb.Plural(report.StepCount, "step")} (stopped by a crash)";
        return $"{path}: preset {scenario.Preset}, state {when}";
    }

    /// <summary>The picture `show --svg` writes for a replay that reached <paramref name="state"/>.</summary>
    internal static string Svg(string path, Scenario scenario, ReplayReport report, SystemState state, IScenarioText text)
    {
        var (violations, notes) = Findings(report, text);
        return IovaSpaceSvgRenderer.Render(state, violations, Title(path, scenario, report), notes);
    }

    /// <summary>Every violation the replay found (at the start and at each step), and a note
    /// line per step that broke something, for the picture.</summary>
    internal static (List<Violation> Violations, List<string> Notes) Findings(ReplayReport report, IScenarioText text)
    {
        var violations = report.InitialViolations.Concat(report.Steps.SelectMany(s => s.Violations)).ToList();
        var notes = new List<string>
        {
            $"{ReplayVerb.Plural(report.ViolationCount, "invariant violation")}, " +
            $"{ReplayVerb.Plural(report.MismatchCount, "expected-outcome mismatch", "expected-outcome mismatches")}" +
            (report.Crash is null ? "" : $"; {report.Crash}"),
        };
        if (report.InitialViolations.Count > 0)
            notes.Add($"the initial state breaks {ReplayVerb.Plural(report.InitialViolations.Count, "invariant")}");
        foreach (var step in report.Steps.Where(s => !s.IsClean && s.Crash is null))
            notes.Add($"step {step.Index}: {text.FormatOp(step.Op)} => {(step.Outcome is null ? "?" : text.FormatOutcome(step.Outcome))}" +
                      (step.Violations.Count > 0 ? $"; breaks {string.Join(", ", step.Violations.Select(v => v.Invariant).Distinct())}" : "") +
                      (step.Mismatch is null || step.Expected is null ? "" : $"; the recorded outcome was {text.FormatOutcome(step.Expected)}"));
        return (violations, notes);
    }

    private static bool TryWriteSvg(string svgPath, string svg, SystemState state, ReplayReport report, TextWriter output, TextWriter error)
    {
        try
        {
            if (Path.GetDirectoryName(Path.GetFullPath(svgPath)) is { } folder) Directory.CreateDirectory(folder);
            File.WriteAllText(svgPath, svg, new System.Text.UTF8Encoding(false));
        }
        catch (Exception e) when (FileErrors.IsFileError(e))
        {
            // Checked before the run, so the file system changed meanwhile: the tool failed.
            error.WriteLine($"{ExitCodes.FailurePrefix}{svgPath}: cannot write the SVG: {FileErrors.Describe(e)}");
            return false;
        }
        output.WriteLine($"wrote {svgPath}: {ReplayVerb.Plural(state.Domains.Count, "domain")}, " +
                         $"{ReplayVerb.Plural(report.ViolationCount, "invariant violation")} highlighted");
        return true;
    }
}
