using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace DmaVerify.Tests.CliCheck;

/// <summary>A fact that needs what docs/your-allocator.md uses: gcc, make and clang-14; with
/// <paramref name="slow"/>, also DMAVERIFY_LONG=1 (the benchmark builds Bench in Release).</summary>
public sealed class GuideFactAttribute : FactAttribute
{
    public GuideFactAttribute(bool slow = false)
    {
        if (!CAllocators.HaveGcc || !CAllocators.HaveClang)
            Skip = "docs/your-allocator.md needs gcc, make (build-essential) and clang-14: install them (.ci/run does) to run its commands";
        else if (slow && Environment.GetEnvironmentVariable("DMAVERIFY_LONG") != "1")
            Skip = "the guide's slow commands (verify bench: a Release build and BenchmarkDotNet) run with DMAVERIFY_LONG=1";
    }
}

/// <summary>
/// Every command of docs/your-allocator.md's `sh` blocks, in order, in a scratch folder, as a
/// user types them: DMAVERIFY is this checkout and `verify` runs the tool built beside the tests.
/// A command ends with <c># exit N</c> when it must exit N (a finding is 1), otherwise 0, and with
/// <c># slow</c> when it takes minutes: those run only in the Long test. The commands the
/// acceptance rests on are also checked for what they print.
/// </summary>
public sealed class YourAllocatorGuideTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dmaverify-guide-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static readonly (string Command, string Prints)[] Expected =
    [
        ("verify check --quick --allocator ./libmine.so", "check: PASSED"),
        ("verify check --quick --engine conformance --allocator ./libmine-limit.so", "WithinLimits (INV-05) at call 0 of a 1-call case: dv_iova_alloc"),
        ("verify replay \"$DMAVERIFY/artifacts/check/conformance/libmine-limit.iova\"", "result: FAILED (WithinLimits at step 0 of 1)"),
        ("verify replay \"$DMAVERIFY/corpus/examples/vtd-lazy-unmap.scn\"", "result: PASSED (model and libmine agree"),
        ("verify show", "allocator libmine, its own view (dv_iova_ranges)"),
        ("verify replay \"$DMAVERIFY/corpus/examples/vtd-unmap-burst.scn\"", "crashed (SIGSEGV, signal 11) in dv_iova_free_fast"),
        ("verify check --quick --engine conformance --allocator ./libmine-hang.so", "did not return from dv_iova_alloc_fast"),
        ("verify fuzz", "instrumented edges reached"),
        ("verify bench", "| Plugged"),
    ];

    public static IEnumerable<(string Command, int Exit, bool Slow)> Commands()
    {
        var lines = File.ReadAllLines(Path.Combine(CAllocators.Root, "docs", "your-allocator.md"));
        bool inBlock = false;
        foreach (var line in lines)
        {
            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                inBlock = !inBlock && line.Trim() == "```sh";
                continue;
            }
            if (!inBlock || line.Trim().Length == 0) continue;
            var note = Regex.Match(line, @"\s+#\s*(exit\s+(\d+)|slow)\s*$");
            if (!note.Success) yield return (line.Trim(), 0, false);
            else if (note.Groups[2].Success) yield return (line[..note.Index].Trim(), int.Parse(note.Groups[2].Value), false);
            else yield return (line[..note.Index].Trim(), 0, true);
        }
    }

    [Fact]
    public void TheGuideHasItsCommands()
    {
        var commands = Commands().Select(c => c.Command).ToList();
        Assert.Contains(Commands(), c => c.Slow && c.Command.StartsWith("verify bench", StringComparison.Ordinal));
        foreach (var (command, _) in Expected)
            Assert.Contains(commands, c => c.StartsWith(command, StringComparison.Ordinal));
        Assert.Contains(commands, c => c.StartsWith("gcc -shared -fPIC", StringComparison.Ordinal));
        Assert.Contains(commands, c => c.StartsWith("clang-14 ", StringComparison.Ordinal) && c.Contains("-fsanitize-coverage=trace-pc-guard"));
    }

    [GuideFact]
    public void EveryCommandOfTheGuideRunsAsWritten() => RunGuide(slowToo: false);

    [GuideFact(slow: true)]
    [Trait("Category", "Long")]
    public void EveryCommandOfTheGuideRunsAsWrittenTheSlowOnesToo() => RunGuide(slowToo: true);

    private void RunGuide(bool slowToo)
    {
        string bin = Path.Combine(_dir, ".bin");
        Directory.CreateDirectory(bin);
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        string verify = Path.Combine(bin, "verify");
        File.WriteAllText(verify, $"#!/bin/sh\nexec '{dotnet}' '{Path.Combine(AppContext.BaseDirectory, "verify.dll")}' \"$@\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(verify, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        foreach (var (command, exit, slow) in Commands())
        {
            if (slow && !slowToo) continue;
            var watch = Stopwatch.StartNew();
            var info = new ProcessStartInfo("bash") { WorkingDirectory = _dir, RedirectStandardOutput = true, RedirectStandardError = true };
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add(command);
            info.Environment["DMAVERIFY"] = CAllocators.Root;
            info.Environment["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH");
            using var process = Process.Start(info)!;
            var stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromMinutes(10))) process.Kill(entireProcessTree: true);
            process.WaitForExit();
            string output = stdout + stderr.Result;
            log.WriteLine($"$ {command}   (exit {process.ExitCode}, {watch.Elapsed.TotalSeconds:F0} s)");
            Assert.True(exit == process.ExitCode, $"{command}: exit {process.ExitCode}, expected {exit}\n{output}");
            foreach (var (_, prints) in Expected.Where(e => command.StartsWith(e.Command, StringComparison.Ordinal)))
                Assert.True(output.Contains(prints, StringComparison.Ordinal), $"{command}: does not print '{prints}'\n{output}");
        }
    }
}
