using System.Diagnostics;

namespace DmaVerify.Fuzz.Afl;

/// <summary>
/// `verify fuzz-afl`'s engine. One command line, three roles, picked from the environment:
/// <list type="bullet">
/// <item>started by afl-fuzz (fd 198/199 open): the fork server (<see cref="AflForkServer"/>);</item>
/// <item>started by that server (runner variables set): the runner (<see cref="AflRunner"/>);</item>
/// <item>otherwise: run the target once on the input and report (reproducing a crash file).</item>
/// </list>
/// </summary>
public static class AflAdapter
{
    /// <param name="loadTarget">Builds the target (instrumented code loaded, map attached
    /// already); called in the runner, and once in the server to fail early on a bad target.</param>
    /// <param name="runnerCommand">How to start this same command again (the runner).</param>
    /// <param name="inputPath">The file afl-fuzz substitutes for @@, or null for stdin.</param>
    /// <returns>An exit code: 0 ok, 1 the input is a finding (once mode), 2 bad input, 3 broken.</returns>
    public static int Run(Func<FuzzAction> loadTarget, ProcessStartInfo runnerCommand, string? inputPath, TextWriter output, TextWriter error)
    {
        if (AflRunner.IsRunner)
            return AflRunner.Run(loadTarget, inputPath, error);
        if (AflForkServer.AflIsPresent)
        {
            loadTarget(); // a bad target fails here, before the handshake, with its message on stderr
            return new AflForkServer(runnerCommand, error).Serve();
        }
        return RunOnce(loadTarget, inputPath, output, error);
    }

    /// <summary>Runs the target once on the input (a crash file, or stdin) with afl-fuzz's map
    /// attached when <c>__AFL_SHM_ID</c> is set (afl-fuzz with AFL_NO_FORKSRV, afl-showmap).</summary>
    public static int RunOnce(Func<FuzzAction> loadTarget, string? inputPath, TextWriter output, TextWriter error)
    {
        AflSharedMap.TryAttach();
        var target = loadTarget();
        ReadOnlySpan<byte> input;
        try
        {
            input = new InputReader(inputPath).Next();
        }
        catch (Exception e) when (Engine.FileErrors.IsFileError(e))
        {
            error.WriteLine($"verify fuzz-afl: cannot read the input {inputPath ?? "(stdin)"}: {Engine.FileErrors.Describe(e)}");
            return 2;
        }
        try
        {
            target(input);
        }
        catch (Exception e)
        {
            output.WriteLine($"{inputPath ?? "(stdin)"}: {input.Length} bytes: finding: {e.GetType().FullName}: {e.Message}");
            output.WriteLine(e.StackTrace);
            return 1;
        }
        output.WriteLine($"{inputPath ?? "(stdin)"}: {input.Length} bytes: no finding");
        return 0;
    }
}
