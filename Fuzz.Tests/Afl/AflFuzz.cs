using System.Diagnostics;
using Xunit.Abstractions;

namespace DmaVerify.Tests.FuzzAfl;

/// <summary>A fact that runs only where afl-fuzz is installed, and says why it is skipped otherwise.</summary>
public sealed class AflFactAttribute : FactAttribute
{
    public AflFactAttribute()
    {
        if (AflFuzz.Path is null)
            Skip = "afl-fuzz not found on PATH: install Debian's afl++ (`apt-get install -y afl++`; .ci/run does) to run the AFL++ end-to-end tests";
    }
}

/// <summary>Runs afl-fuzz on `verify fuzz-afl TARGET` and reads what it left behind.</summary>
internal sealed class AflFuzz
{
    public static string? Path { get; } = Find("afl-fuzz");

    public static string Verify => System.IO.Path.Combine(AppContext.BaseDirectory, "verify.dll");

    public static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    public static string TestTargets => System.IO.Path.Combine(AppContext.BaseDirectory, "DmaVerify.Fuzz.TestTargets.dll");

    /// <summary>Runs afl-fuzz for at most <paramref name="seconds"/> (-V) and returns the
    /// instance folder (out/default).</summary>
    public static string Run(string workDir, string target, IReadOnlyDictionary<string, byte[]> seeds, int seconds, int timeoutMs,
        ITestOutputHelper log, bool untilCrash = false, string? dictionary = null, bool deterministic = false)
    {
        string input = System.IO.Path.Combine(workDir, "in"), output = System.IO.Path.Combine(workDir, "out");
        Directory.CreateDirectory(input);
        foreach (var (name, bytes) in seeds) File.WriteAllBytes(System.IO.Path.Combine(input, name), bytes);

        var info = new ProcessStartInfo(Path!)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = workDir,
        };
        if (deterministic) info.ArgumentList.Add("-D");
        if (dictionary is not null)
        {
            File.WriteAllText(System.IO.Path.Combine(workDir, "dict"), dictionary);
            info.ArgumentList.Add("-x");
            info.ArgumentList.Add(System.IO.Path.Combine(workDir, "dict"));
        }
        foreach (var arg in (string[])["-i", input, "-o", output, "-t", timeoutMs.ToString(), "-m", "none", "-V", seconds.ToString(),
                     "--", Dotnet, Verify, "fuzz-afl", target, "--cache", System.IO.Path.Combine(workDir, "cache")])
            info.ArgumentList.Add(arg);
        info.Environment["AFL_SKIP_BIN_CHECK"] = "1";
        info.Environment["AFL_NO_UI"] = "1";
        info.Environment["AFL_SKIP_CPUFREQ"] = "1";
        info.Environment["AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES"] = "1";
        info.Environment["AFL_NO_AFFINITY"] = "1";
        info.Environment["AFL_FORKSRV_INIT_TMOUT"] = "60000"; // .NET start-up plus instrumenting on first use
        if (untilCrash) info.Environment["AFL_BENCH_UNTIL_CRASH"] = "1";

        using var afl = Process.Start(info)!;
        afl.StandardInput.Close();
        var stdout = afl.StandardOutput.ReadToEndAsync();
        var stderr = afl.StandardError.ReadToEndAsync();
        if (!afl.WaitForExit((seconds + 60) * 1000))
        {
            afl.Kill(entireProcessTree: true);
            afl.WaitForExit();
        }
        string text = stdout.Result + stderr.Result;
        string instance = System.IO.Path.Combine(output, "default");
        log.WriteLine($"afl-fuzz exit {afl.ExitCode}; last lines:\n{string.Join("\n", text.Split('\n').TakeLast(8))}");
        Assert.True(File.Exists(System.IO.Path.Combine(instance, "fuzzer_stats")), $"afl-fuzz did not run:\n{text}");
        log.WriteLine(File.ReadAllText(System.IO.Path.Combine(instance, "fuzzer_stats")));
        return instance;
    }

    public static IReadOnlyDictionary<string, string> Stats(string instance) =>
        File.ReadAllLines(System.IO.Path.Combine(instance, "fuzzer_stats"))
            .Select(l => l.Split(':', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0].Trim(), p => p[1].Trim());

    public static string[] Files(string instance, string folder) =>
        Directory.Exists(System.IO.Path.Combine(instance, folder))
            ? Directory.GetFiles(System.IO.Path.Combine(instance, folder), "id:*")
            : [];

    /// <summary>`verify fuzz-afl TARGET FILE` without afl-fuzz: exit code and output.</summary>
    public static (int ExitCode, string Output) Replay(string workDir, string target, string file)
    {
        var info = new ProcessStartInfo(Dotnet) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])[Verify, "fuzz-afl", target, file, "--cache", System.IO.Path.Combine(workDir, "cache")])
            info.ArgumentList.Add(arg);
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    private static string? Find(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => System.IO.Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);
}
