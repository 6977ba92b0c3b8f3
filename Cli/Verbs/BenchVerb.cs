using System.Diagnostics;

namespace DmaVerify.Cli.Verbs;

/// <summary>
/// `verify bench [--quick] [--filter PATTERN]`: runs the Bench project (BenchmarkDotNet) in
/// Release as a child process — <c>dotnet run -c Release --project Bench/Bench.csproj --</c> —
/// from the repository root found above the working directory or the tool, streams its output,
/// then prints the ratio tables it wrote (BenchmarkDotNet.Artifacts/results/*-report-github.md).
/// </summary>
internal static class BenchVerb
{
    public const string ProjectPath = "Bench/Bench.csproj";

    /// <summary>How the benchmarks learn the plugged allocator (Bench/PluggedAllocator.cs reads it).</summary>
    public const string PluggedBenchVariable = "DMAVERIFY_BENCH_ALLOCATOR";

    /// <param name="plugged">An allocator given with --allocator: the child loads it (in its own
    /// process, from <c>DMAVERIFY_BENCH_ALLOCATOR</c>) and, unless a filter is given, runs the
    /// workloads that set it beside Optimized and LinuxStyle (<c>*Plugged*</c>).</param>
    public static int Run(bool quick, string? filter, TextWriter output, TextWriter error, string? searchFrom = null,
        Composition.PluggedImplementation? plugged = null)
    {
        var root = FindRoot(searchFrom);
        if (root is null)
        {
            error.WriteLine($"verify bench: no {ProjectPath} above {searchFrom ?? Directory.GetCurrentDirectory()} or {AppContext.BaseDirectory}; run it inside a DmaVerify checkout");
            return ExitCodes.BadInput;
        }
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "run", "-c", "Release", "--project", ProjectPath, "--" }) start.ArgumentList.Add(a);
        if (quick) start.ArgumentList.Add("--quick");
        if (plugged is not null)
        {
            start.Environment[PluggedBenchVariable] = plugged.Allocator.Spec.ToString();
            filter ??= "*Plugged*";
            output.WriteLine($"verify bench: allocator {plugged.Allocator.Name} ({plugged.Allocator.Spec}; {plugged.Allocator.Capabilities.Describe()}), " +
                             "loaded into the benchmark process (no host process: a benchmark measures the allocator, not a pipe)");
        }
        if (filter is not null) { start.ArgumentList.Add("--filter"); start.ArgumentList.Add(filter); }

        var began = DateTime.UtcNow;
        output.WriteLine($"verify bench: dotnet {string.Join(' ', start.ArgumentList)} (in {root})");
        Process? child;
        try
        {
            child = Process.Start(start);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            error.WriteLine($"{ExitCodes.FailurePrefix}cannot start dotnet: {e.Message}");
            return ExitCodes.Crashed;
        }
        if (child is null)
        {
            error.WriteLine($"{ExitCodes.FailurePrefix}cannot start dotnet");
            return ExitCodes.Crashed;
        }
        child.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.WriteLine(e.Data); };
        child.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (error) error.WriteLine(e.Data); };
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        child.WaitForExit();

        PrintRatioTables(Path.Combine(root, "BenchmarkDotNet.Artifacts", "results"), began, output);
        if (child.ExitCode == 0) return ExitCodes.Ok;
        // A benchmark gives numbers, not a verdict: a failed run is the tool failing, not a finding.
        error.WriteLine($"{ExitCodes.FailurePrefix}the benchmark run exited with code {child.ExitCode} (its output is above)");
        return ExitCodes.Crashed;
    }

    /// <summary>The directory holding <see cref="ProjectPath"/>, searched upwards.</summary>
    internal static string? FindRoot(string? searchFrom)
    {
        foreach (var from in searchFrom is not null ? [searchFrom] : new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(from); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, ProjectPath))) return dir.FullName;
        return null;
    }

    private static void PrintRatioTables(string results, DateTime since, TextWriter output)
    {
        if (!Directory.Exists(results)) return;
        var reports = Directory.GetFiles(results, "*-report-github.md")
            .Where(f => File.GetLastWriteTimeUtc(f) >= since).Order(StringComparer.Ordinal).ToList();
        if (reports.Count == 0) return;
        output.WriteLine();
        output.WriteLine("verify bench: ratio tables (Ratio = time / the Baseline row's time)");
        foreach (var report in reports)
        {
            output.WriteLine();
            output.WriteLine($"### {Path.GetFileName(report)}");
            foreach (var line in File.ReadLines(report).Where(l => l.StartsWith('|'))) output.WriteLine(line);
        }
    }
}
