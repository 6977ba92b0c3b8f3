using System.Diagnostics;
using DmaVerify.Fuzz.Targets;

namespace DmaVerify.Fuzz.Engine;

/// <summary>libFuzzer's regression mode: when every argument is a file, run each once and report;
/// -timeout applies to each (an input that hangs is named and ends the run).</summary>
public static class InputRunner
{
    public static int Run(IFuzzTarget target, IReadOnlyList<string> files, FuzzOptions options, TextWriter log)
    {
        using var coverage = new CoverageFeatures();
        string running = "";
        using var watchdog = Watchdog.ForNamedInputs(options, log, () => running);
        var executor = new Executor(target, coverage, watchdog, new CurrentInput());
        log.WriteLine($"INFO: running {files.Count} inputs 1 time(s) each on target {target.Name}.");
        int exit = 0;
        foreach (string file in files)
        {
            log.WriteLine($"Running: {file}");
            running = file;
            var clock = Stopwatch.StartNew();
            var crash = executor.Execute(File.ReadAllBytes(file));
            if (crash is not null)
            {
                log.WriteLine($"=={Environment.ProcessId}== ERROR: DmaVerify fuzz: {(crash is FuzzFinding f ? f.Message : crash.ToString())}");
                log.WriteLine($"SUMMARY: DmaVerify fuzz: {CrashSignature.Of(crash)}");
                exit = options.ErrorExitCode;
                continue;
            }
            log.WriteLine($"Executed {file} in {clock.ElapsedMilliseconds} ms");
        }
        return exit;
    }
}
