using DmaVerify.FuzzRuntime;

namespace DmaVerify.Fuzz.Afl;

/// <summary>
/// The process that actually runs test cases (SharpFuzz's out-of-process child): started by the
/// <see cref="AflForkServer"/> with two pipes, it loads the target, warms it up, then per
/// request runs the current input and answers with a wait status. A finding is caught and
/// reported as SIGABRT; a hang or a fatal error kills only this process, and the server starts
/// a new one.
/// </summary>
internal static class AflRunner
{
    public const string ControlVariable = "DMAVERIFY_AFL_RUNNER_CTL";
    public const string StatusVariable = "DMAVERIFY_AFL_RUNNER_ST";

    /// <summary>The word a runner sends once it is ready for its first request.</summary>
    public const int Ready = 0x59444552; // "REDY"

    public static bool IsRunner => Environment.GetEnvironmentVariable(ControlVariable) is not null;

    public static int Run(Func<FuzzAction> loadTarget, string? inputPath, TextWriter error)
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable(ControlVariable), out int control)
            || !int.TryParse(Environment.GetEnvironmentVariable(StatusVariable), out int status))
        {
            error.WriteLine($"verify fuzz-afl: runner started without valid {ControlVariable}/{StatusVariable}");
            return 2;
        }

        AflSharedMap.TryAttach();
        var target = loadTarget();
        var input = new InputReader(inputPath);
        try { target([]); }
        catch (Exception) { /* the warm-up only runs one-time initialisation */ }
        AflSharedMap.Clear();
        if (!Posix.TryWriteWord(status, Ready)) return 0;

        while (Posix.TryReadWord(control, out _))
        {
            int result = WaitStatus.Ok;
            CoverageMap.PreviousLocation = 0;
            try
            {
                target(input.Next());
            }
            catch (Exception e)
            {
                result = WaitStatus.Finding;
                error.WriteLine($"verify fuzz-afl: finding: {e.GetType().FullName}: {e.Message}");
            }
            if (!Posix.TryWriteWord(status, result)) break;
        }
        return 0; // the server is gone
    }
}
