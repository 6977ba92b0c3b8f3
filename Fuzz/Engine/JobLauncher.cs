using System.Diagnostics;

namespace DmaVerify.Fuzz.Engine;

/// <summary>
/// -jobs=N: runs N fuzzing processes, at most -workers at a time, each with the same target and
/// corpus folders (they share the first one through -reload) and its own seed, logging to
/// fuzz-J.log in the working folder, as libFuzzer does. Prints "Job J exited with exit code X".
/// Workers die with their parent: each one's standard input is a pipe from here, which the
/// kernel closes when this process ends, however it ends (see <see cref="StopRequest"/>). On
/// SIGINT or SIGTERM the launcher closes those pipes itself, waits for the workers to finish
/// their running input, kills any still running after the grace period, and exits 128 + signal.
/// </summary>
public static class JobLauncher
{
    /// <param name="command">How to start this program again (the executable and any leading
    /// arguments, e.g. dotnet and the assembly).</param>
    /// <param name="childArgs">The fuzz verb's arguments without -jobs and -workers.</param>
    public static int Run(IReadOnlyList<string> command, IReadOnlyList<string> childArgs, FuzzOptions options, TextWriter log, StopRequest stop)
    {
        int workers = options.Workers > 0 ? options.Workers : Math.Max(1, Math.Min(options.Jobs, Environment.ProcessorCount / 2));
        uint baseSeed = options.Seed != 0 ? options.Seed : (uint)(Environment.TickCount64 & 0x3FFF_FFFF) | 1;
        log.WriteLine($"INFO: running {options.Jobs} jobs, {workers} at a time; logs in fuzz-<J>.log; base seed {baseSeed}");
        int worst = 0;
        var running = new List<(int Job, Process Process)>();
        int next = 0;
        try
        {
            while ((next < options.Jobs && !stop.Token.IsCancellationRequested) || running.Count > 0)
            {
                while (running.Count < workers && next < options.Jobs && !stop.Token.IsCancellationRequested)
                {
                    int job = next++;
                    // Seeds stay in -seed's range (1 .. 2^31 - 2), wrapping for a high base seed.
                    uint seed = (uint)((baseSeed - 1 + (ulong)job) % (int.MaxValue - 1) + 1);
                    var args = childArgs.Where(a => !a.StartsWith("-seed=", StringComparison.Ordinal)).Append($"-seed={seed}");
                    running.Add((job, Start(command, args, $"fuzz-{job}.log")));
                }
                if (stop.Token.IsCancellationRequested)
                {
                    StopAll(running, log);
                    break;
                }
                for (int i = running.Count - 1; i >= 0; i--)
                {
                    var (job, process) = running[i];
                    if (!process.WaitForExit(100)) continue;
                    log.WriteLine($"Job {job} exited with exit code {process.ExitCode}");
                    worst = Worse(worst, process.ExitCode, options);
                    process.Dispose();
                    running.RemoveAt(i);
                }
            }
        }
        finally
        {
            // Whatever ended the loop (an exception included), no worker outlives the launcher.
            foreach (var (_, process) in running)
            {
                try { if (!process.HasExited) process.Kill(entireProcessTree: true); }
                catch (InvalidOperationException) { }
            }
        }
        return stop.SignalExitCode ?? worst;
    }

    /// <summary>The exit code for two jobs' codes: a finding (crash or timeout code) wins over a
    /// tool failure, which wins over a clean run.</summary>
    private static int Worse(int a, int b, FuzzOptions options)
    {
        static bool Finding(int code, FuzzOptions o) => code != 0 && (code == o.ErrorExitCode || code == o.TimeoutExitCode);
        if (Finding(a, options)) return a;
        if (Finding(b, options)) return b;
        return Math.Max(a, b);
    }

    /// <summary>Asks every worker to stop (closing its pipe), waits up to the grace period for
    /// them to finish the input they are running, then kills the rest.</summary>
    private static void StopAll(List<(int Job, Process Process)> running, TextWriter log)
    {
        foreach (var (_, process) in running)
        {
            try { process.StandardInput.Close(); }
            catch (Exception e) when (e is IOException or InvalidOperationException) { }
        }
        var deadline = Stopwatch.StartNew();
        foreach (var (job, process) in running)
        {
            // Within our own grace period (StopRequest ends this process when it is over).
            var left = StopRequest.Grace - TimeSpan.FromSeconds(1) - deadline.Elapsed;
            if (!process.WaitForExit(left < TimeSpan.Zero ? TimeSpan.Zero : left))
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                process.WaitForExit();
                log.WriteLine($"Job {job} killed: it did not stop within {StopRequest.Grace.TotalSeconds:F0} s");
            }
            else log.WriteLine($"Job {job} stopped with exit code {process.ExitCode}");
            process.Dispose();
        }
        running.Clear();
    }

    private static Process Start(IReadOnlyList<string> command, IEnumerable<string> args, string logFile)
    {
        // The child's output goes to its log through a shell-free redirect: the child itself is
        // told where to log by its standard streams, which we copy to the file asynchronously.
        var info = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        info.Environment[StopRequest.WorkerVariable] = "1";
        foreach (string a in command.Skip(1).Concat(args)) info.ArgumentList.Add(a);
        var writer = new StreamWriter(logFile, append: false) { AutoFlush = true };
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var gate = new object();
        void Copy(object _, DataReceivedEventArgs e) { if (e.Data is not null) lock (gate) writer.WriteLine(e.Data); }
        process.OutputDataReceived += Copy;
        process.ErrorDataReceived += Copy;
        process.Exited += (_, _) => { process.WaitForExit(); lock (gate) writer.Dispose(); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
