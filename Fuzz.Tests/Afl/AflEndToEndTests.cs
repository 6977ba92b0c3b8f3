using DmaVerify.Tests.FuzzInstrumentation;
using Xunit.Abstractions;

namespace DmaVerify.Tests.FuzzAfl;

/// <summary>
/// afl-fuzz (Debian's afl++) drives `verify fuzz-afl` end to end: the fork-server handshake, the
/// shared-memory map (the queue grows from coverage alone), crashes reported as a signal-style
/// status and saved under crashes/, and a runner that survives hangs and fatal errors.
/// </summary>
public sealed class AflEndToEndTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _dir = InstrumentedFiles.NewTempDir("afl");

    public void Dispose() => InstrumentedFiles.DeleteDir(_dir);

    private static string Target(string method) => $"{AflFuzz.TestTargets}:DmaVerify.Fuzz.TestTargets.{method}";

    [AflFact]
    public void AflFindsThePlantedCrashFromCoverageAndTheCrashFileReplays()
    {
        string target = Target("PlantedCrash.Run");
        // -D adds afl's deterministic stages (bit flips, arithmetic) to every new queue entry, so
        // each matched byte is followed within a few thousand runs whatever the machine's load;
        // random havoc alone sometimes needed more than the budget on a busy machine.
        var instance = AflFuzz.Run(_dir, target, new Dictionary<string, byte[]> { ["seed"] = "AAAA"u8.ToArray() },
            seconds: 50, timeoutMs: 2000, log, untilCrash: true, deterministic: true);
        var stats = AflFuzz.Stats(instance);

        // "DMA!" sits behind four nested byte comparisons: reaching it takes the queue entries
        // that each matched one more byte, which only the coverage map can tell afl-fuzz about.
        var queue = AflFuzz.Files(instance, "queue");
        Assert.True(queue.Length > 1, $"the queue did not grow beyond the seed: {string.Join(", ", queue.Select(Path.GetFileName))}");
        var crashes = AflFuzz.Files(instance, "crashes");
        Assert.True(crashes.Length > 0, $"no crash within the budget (execs_done {stats.GetValueOrDefault("execs_done")})");
        Assert.Contains("sig:06", Path.GetFileName(crashes[0]));
        log.WriteLine($"exec/s {stats["execs_per_sec"]}, stability {stats.GetValueOrDefault("stability")}");

        var (exit, output) = AflFuzz.Replay(_dir, target, crashes[0]);
        Assert.True(exit == 1, $"replay exit {exit}: {output}");
        Assert.Contains("planted crash: input starts with DMA!", output);

        var (seedExit, seedOutput) = AflFuzz.Replay(_dir, target, Path.Combine(_dir, "in", "seed"));
        Assert.True(seedExit == 0, $"seed replay exit {seedExit}: {seedOutput}");
    }

    [AflFact]
    public void TheRunnerSurvivesHangsAndFatalErrors()
    {
        // A dictionary with "HANG" and "KILL" makes afl-fuzz try both at once: it kills the
        // hanging runner on its timeout, Environment.FailFast takes the runner down; the server
        // reports both, starts a new runner each time, and the campaign runs to its end.
        string target = Target("PlantedHangAndFatal.Run");
        var instance = AflFuzz.Run(_dir, target, new Dictionary<string, byte[]>
        {
            ["hang"] = "HANx"u8.ToArray(),
            ["kill"] = "KILx"u8.ToArray(),
        }, seconds: 10, timeoutMs: 300, log, dictionary: "hang=\"HANG\"\nkill=\"KILL\"\n");
        var stats = AflFuzz.Stats(instance);

        Assert.NotEmpty(AflFuzz.Files(instance, "hangs"));
        var crashes = AflFuzz.Files(instance, "crashes");
        Assert.NotEmpty(crashes);
        Assert.Contains("sig:06", Path.GetFileName(crashes[0])); // FailFast aborts the runner
        // Every hang and fatal error costs a runner start (a .NET process), so executions are
        // few here; what matters is that the campaign kept going to its time limit.
        Assert.True(long.Parse(stats["execs_done"]) > 100, $"only {stats["execs_done"]} executions: the campaign stalled");
        Assert.True(long.Parse(stats["run_time"]) >= 9, $"afl-fuzz stopped after {stats["run_time"]} s");
    }
}
