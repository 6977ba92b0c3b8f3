using DmaVerify.Cli.Show;
using DmaVerify.Cli.Text;
using DmaVerify.Model;

namespace DmaVerify.Cli.Verbs;

/// <summary>`verify show FILE`: run a scenario on the reference model and print the IOVA space
/// of every domain and the DMA window of every device in the state it ends in.</summary>
internal static class ShowVerb
{
    public static int Run(string path, TextWriter output, TextWriter error, IScenarioText text)
    {
        if (!ScenarioLoader.TryLoadAndRun(path, text, error, out var scenario, out var report, out int exit))
            return exit;

        if (report.FinalState is { } state)
        {
            string when = report.Crash is null
                ? $"after {ReplayVerb.Plural(report.StepsCompleted, "step")}"
                : $"after {report.StepsCompleted} of {ReplayVerb.Plural(report.StepCount, "step")} (stopped by a crash)";
            IovaSpaceTextRenderer.Render(IovaSpaceView.Of(state), $"{path}: preset {scenario.Preset}, state {when}", output);
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
}
