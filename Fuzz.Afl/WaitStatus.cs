namespace DmaVerify.Fuzz.Afl;

/// <summary>
/// The raw <c>waitpid</c> statuses the fork server reports to afl-fuzz
/// (docs/fuzz-afl.md#the-fork-server-protocol): 0 for a normal run, a signal number in the low 7
/// bits for a run that "died by a signal", which afl-fuzz files as a crash.
/// </summary>
public static class WaitStatus
{
    public const int Ok = 0;
    public const int SigAbrt = 6;
    public const int SigKill = 9;

    /// <summary>A caught finding (an exception or a failed oracle) reads as SIGABRT, as an
    /// abort() in a native target would.</summary>
    public const int Finding = SigAbrt;

    /// <summary>The status of a runner process that died, from .NET's exit code (128 + signal
    /// for a process killed by a signal; any other exit is unexpected and reported as an abort).</summary>
    public static int OfDeadRunner(int exitCode) =>
        exitCode > 128 && exitCode < 128 + 64 ? exitCode - 128 : SigAbrt;
}
