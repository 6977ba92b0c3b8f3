using DmaVerify.Contracts;
using DmaVerify.Cli.Files;
using DmaVerify.Cli.Text;
using DmaVerify.Model;

namespace DmaVerify.Cli.Verbs;

/// <summary>Reads and parses a scenario file for a verb, reporting every problem on the error
/// stream in the form editors understand, and the exit code it calls for.</summary>
internal static class ScenarioLoader
{
    /// <summary>Past this many parse errors the rest are counted, not printed: the first ones
    /// say what is wrong, and a file that is not a scenario at all has one per line.</summary>
    private const int MaxErrorsShown = 20;

    /// <summary>A path as an error line starts with it ('' for an empty one, so the line does
    /// not start with a colon).</summary>
    public static string Shown(string path) => path.Length == 0 ? "''" : path;

    public static bool TryLoad(string path, IScenarioText text, TextWriter error, out Scenario scenario, out int exitCode)
    {
        scenario = null!;
        exitCode = ExitCodes.BadInput;

        if (!TextFile.TryRead(path, out string content, out string problem, out _))
        {
            error.WriteLine($"{Shown(path)}: error: {problem}");
            return false;
        }

        ScenarioTextResult result;
        try
        {
            result = text.Parse(content, path);
        }
        catch (Exception e)
        {
            // The parser promises never to throw; if it does, that is a bug in the tool.
            error.WriteLine($"{path}: internal error: the scenario parser crashed: {e.GetType().Name}: {e.Message}");
            exitCode = ExitCodes.Crashed;
            return false;
        }

        if (!result.Success)
        {
            foreach (var e in result.Errors.Take(MaxErrorsShown))
                error.WriteLine(e.ToString());
            if (result.Errors.Count > MaxErrorsShown)
                error.WriteLine($"{path}: ... and {result.Errors.Count - MaxErrorsShown} more errors");
            if (result.Errors.Count == 0)
                error.WriteLine($"{path}: error: not a scenario");
            return false;
        }

        scenario = result.Scenario!;
        exitCode = ExitCodes.Ok;
        return true;
    }

    /// <summary>Loads a scenario and runs it on the model; false (with the exit code) when the
    /// file cannot be read or parsed or the scenario does not build. What replay and show share.</summary>
    public static bool TryLoadAndRun(string path, IScenarioText text, TextWriter error, out Scenario scenario, out ReplayReport report, out int exitCode,
                                     ModelOptions? options = null)
    {
        report = null!;
        if (!TryLoad(path, text, error, out scenario, out exitCode)) return false;
        report = ScenarioRunner.Run(scenario, options);
        if (ReportUnrunnable(path, report, error) is int bad)
        {
            exitCode = bad;
            return false;
        }
        return true;
    }

    /// <summary>Prints why a scenario could not be run and gives its exit code, or returns null
    /// when the report is not of that kind.</summary>
    public static int? ReportUnrunnable(string path, ReplayReport report, TextWriter error)
    {
        if (report.Error is null) return null;
        error.WriteLine($"{path}: error: {report.Error}");
        return ExitCodes.BadInput;
    }
}
