using System.Diagnostics;

namespace DmaVerify.Tests.Common;

/// <summary>`verify` run as a real child process (for what only a process shows: exit codes
/// from the watchdog, signals, workers), and the processes a process started.</summary>
public static class ChildProcesses
{
    public static string Verify => Path.Combine(AppContext.BaseDirectory, "verify.dll");

    public static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    public static string TestTarget(string method) =>
        $"{Path.Combine(AppContext.BaseDirectory, "DmaVerify.Fuzz.TestTargets.dll")}:DmaVerify.Fuzz.TestTargets.PlantedCrash.{method}";

    /// <summary>Starts `dotnet verify.dll ARGS` in <paramref name="workingDirectory"/>; its stderr
    /// is collected into <paramref name="log"/> as it comes.</summary>
    public static Process Start(string workingDirectory, System.Text.StringBuilder log, params string[] args) =>
        Start(workingDirectory, log, new Dictionary<string, string>(), args);

    public static Process Start(string workingDirectory, System.Text.StringBuilder log, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo(Dotnet)
        {
            RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false, WorkingDirectory = workingDirectory,
        };
        foreach (var (name, value) in environment) info.Environment[name] = value;
        info.ArgumentList.Add(Verify);
        foreach (string a in args) info.ArgumentList.Add(a);
        var process = Process.Start(info)!;
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return process;
    }

    /// <summary>Waits until <paramref name="condition"/> holds or <paramref name="timeout"/> passes.</summary>
    public static bool WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (condition()) return true;
            Thread.Sleep(50);
        }
        return condition();
    }

    /// <summary>The ids of the running processes whose parent is <paramref name="pid"/>
    /// (from /proc/PID/stat: the field after the command name in parentheses is the state, then
    /// the parent's id).</summary>
    public static List<int> ChildrenOf(int pid)
    {
        var children = new List<int>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int id)) continue;
            string stat;
            try { stat = File.ReadAllText(Path.Combine(dir, "stat")); }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (fields.Length > 1 && fields[0] != "Z" && int.TryParse(fields[1], out int parent) && parent == pid) children.Add(id);
        }
        return children;
    }

    public static bool IsRunning(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0] != "Z";
        }
        catch (IOException) { return false; }
    }

    /// <summary>Kills what is left (a test that failed must not leave processes behind).</summary>
    public static void KillAll(IEnumerable<int> pids)
    {
        foreach (int pid in pids)
        {
            try { using var p = Process.GetProcessById(pid); p.Kill(entireProcessTree: true); }
            catch (ArgumentException) { }
            catch (InvalidOperationException) { }
        }
    }
}
