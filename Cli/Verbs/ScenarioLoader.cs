using DmaVerify.Contracts;
using DmaVerify.Cli.Files;
using DmaVerify.Cli.Text;
using DmaVerify.Model;
using DmaVerify.Fuzz.Engine;

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
            WriteErrors(path, result.Errors.Select(e => e.ToString()).ToList(), error);
            return false;
        }

        scenario = result.Scenario!;
        exitCode = ExitCodes.Ok;
        return true;
    }

    /// <summary>Checks a large scenario file line by line without keeping its steps; on success
    /// <paramref name="header"/> holds the preset and devices and <paramref name="count"/> the steps.</summary>
    public static bool TryValidateLarge(string path, TextWriter error, out Scenario header, out long count)
    {
        header = null!;
        count = 0;
        ParseResult result;
        try
        {
            result = ScenarioParser.Validate(TextLines.Read(path), path, out count);
        }
        catch (Exception e) when (e is TextLines.NotTextException || FileErrors.IsFileError(e))
        {
            error.WriteLine($"{Shown(path)}: error: {(e is TextLines.NotTextException ? e.Message : $"cannot read: {FileErrors.Describe(e)}")}");
            return false;
        }
        if (!result.IsSuccess)
        {
            WriteErrors(path, result.Errors.Select(e => e.ToString()).ToList(), error);
            return false;
        }
        header = result.Scenario!;
        return true;
    }

    /// <summary>Prints parse errors (the first <see cref="MaxErrorsShown"/>, then a count).</summary>
    public static void WriteErrors(string path, IReadOnlyList<string> errors, TextWriter error)
    {
        foreach (var e in errors.Take(MaxErrorsShown))
            error.WriteLine(e);
        if (errors.Count > MaxErrorsShown)
            error.WriteLine($"{path}: ... and {errors.Count - MaxErrorsShown} more errors");
        if (errors.Count == 0)
            error.WriteLine($"{path}: error: not a scenario");
    }

    /// <summary>Loads a scenario and runs it on the model; false (with the exit code) when the
    /// file cannot be read or parsed or the scenario does not build. What replay and show share.</summary>
    /// <remarks>A file above <see cref="TextLines.StreamAbove"/> is checked line by line and then
    /// streamed through the model: the report keeps only the steps with something to say
    /// (violations, mismatches, a crash), and the scenario only its header.</remarks>
    public static bool TryLoadAndRun(string path, IScenarioText text, TextWriter error, out Scenario scenario, out ReplayReport report, out int exitCode,
                                     ModelOptions? options = null)
    {
        report = null!;
        if (TextLines.IsLarge(path))
        {
            exitCode = ExitCodes.BadInput;
            if (!TryValidateLarge(path, error, out scenario, out _)) return false;
            var telling = new List<StepRecord>();
            try
            {
                report = ScenarioRunner.Stream(scenario, ScenarioParser.StreamSteps(TextLines.Read(path), path),
                    step => { if (!step.IsClean || step.Amends) telling.Add(step); }, options: options);
            }
            catch (TextLines.NotTextException e)
            {
                error.WriteLine($"{path}: error: {e.Message}");
                return false;
            }
            report = report with { Steps = telling };
        }
        else
        {
            if (!TryLoad(path, text, error, out scenario, out exitCode)) return false;
            report = ScenarioRunner.Run(scenario, options);
        }
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
