using System.Text.RegularExpressions;
using DmaVerify.Fuzz.Engine;

namespace DmaVerify.Cli;

/// <summary>
/// The last line of defence: an exception that escapes a verb becomes one line starting
/// "DmaVerify failed:" and exit 3, never a stack trace and never exit 1 (which means a finding).
/// A file-system failure names its path and the reason in words; anything else is a bug in
/// DmaVerify and says so. DMAVERIFY_DEBUG=1 adds the stack trace.
/// </summary>
internal static partial class ToolFailure
{
    public static int Report(Exception e, TextWriter error)
    {
        error.WriteLine(ExitCodes.FailurePrefix + Describe(e));
        if (Environment.GetEnvironmentVariable("DMAVERIFY_DEBUG") == "1") error.WriteLine(e.ToString());
        return ExitCodes.Crashed;
    }

    public static string Describe(Exception e)
    {
        if (e is OutOfMemoryException or InsufficientExecutionStackException) return "out of memory";
        if (FileErrors.IsFileError(e))
        {
            var quoted = QuotedPath().Match(e.Message);
            return quoted.Success ? $"{quoted.Groups[1].Value}: {FileErrors.Describe(e)}" : FileErrors.Describe(e);
        }
        return $"internal error ({e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}) -- a bug in DmaVerify; DMAVERIFY_DEBUG=1 prints where";
    }

    [GeneratedRegex("'(/[^']*)'")]
    private static partial Regex QuotedPath();
}
