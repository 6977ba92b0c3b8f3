using System.Diagnostics;

namespace DmaVerify.Fuzz.Engine;

/// <summary>
/// -jobs=N: runs N fuzzing processes, at most -workers at a time, each with the same target and
/// corpus folders (they share the first one through -reload) and its own seed, logging to
/// fuzz-J.log in the working folder, as libFuzzer does. Prints "Job J exited with exit code X".
/// </summary>
public static class JobLauncher
{
    /// <param name="command">How to start this program again (the executable and any leading
    /// arguments, e.g. dotnet and the assembly).</param>
    /// <param name="childArgs">The fuzz verb's arguments without -jobs and -workers.</param>
    public static int Run(IReadOnlyList<string> command, IReadOnlyList<string> childArgs, FuzzOptions options, TextWriter log)
    {
        int workers = options.Workers > 0 ? options.Workers : Math.Max(1, Math.Min(options.Jobs, Environment.ProcessorCount / 2));
        uint baseSeed = options.Seed != 0 ? options.Seed : (uint)(Environment.TickCount64 & 0x3FFF_FFFF) | 1;
        log.WriteLine($"INFO: running {options.Jobs} jobs, {workers} at a time; logs in fuzz-<J>.log; base seed {baseSeed}");
        int worst = 0;
        var running = new List<(int Job, Process Process)>();
        int next = 0;
        while (next < options.Jobs || running.Count > 0)
        {
            while (running.Count < workers && next < options.Jobs)
            {
                int job = next++;
                var args = childArgs.Where(a => !a.StartsWith("-seed=", StringComparison.Ordinal)).Append($"-seed={baseSeed + (uint)job}");
                running.Add((job, Start(command, args, $"fuzz-{job}.log")));
            }
            for (int i = running.Count - 1; i >= 0; i--)
            {
                var (job, process) = running[i];
                if (!process.WaitForExit(100)) continue;
                log.WriteLine($"Job {job} exited with exit code {process.ExitCode}");
                worst = Math.Max(worst, process.ExitCode);
                process.Dispose();
                running.RemoveAt(i);
            }
        }
        return worst;
    }

    private static Process Start(IReadOnlyList<string> command, IEnumerable<string> args, string logFile)
    {
        // The child's output goes to its log through a shell-free redirect: the child itself is
        // told where to log by its standard streams, which we copy to the file asynchronously.
        var info = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
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
