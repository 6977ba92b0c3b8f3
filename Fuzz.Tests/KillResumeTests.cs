using System.Diagnostics;
using DmaVerify.Contracts;
using DmaVerify.Fuzz.Engine;
using DmaVerify.Fuzz.Mutation;
using DmaVerify.Fuzz.Targets;
using DmaVerify.Model;
using Xunit.Abstractions;
using DmaVerify.Cli.Composition;

namespace DmaVerify.Tests.Fuzzing;

/// <summary>
/// `verify fuzz` run as a child process and killed (SIGKILL) while it adds to its corpus: every
/// file left in the corpus folder is whole (its name is the SHA-1 of its bytes; temporaries are
/// dot-files the engine ignores), and a new engine resumes from all of them.
/// </summary>
[Collection(CoverageMapCollection.Name)]
public sealed class KillResumeTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dmaverify-kill-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public void AKilledEngineLosesNoCorpusFileAndResumes()
    {
        string corpus = Path.Combine(_dir, "corpus");
        string verify = Path.Combine(AppContext.BaseDirectory, "verify.dll");
        Assert.True(File.Exists(verify), $"{verify} is missing (Tests references Cli)");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false, WorkingDirectory = _dir };
        foreach (string a in (string[])[verify, "fuzz", Presets.ArmSmmu, corpus, "-seed=9", "-max_total_time=120", "-instrument_cache=" + Path.Combine(_dir, "cache")]) info.ArgumentList.Add(a);
        using var child = Process.Start(info)!;
        var childLog = new System.Text.StringBuilder();
        child.ErrorDataReceived += (_, e) => { lock (childLog) childLog.AppendLine(e.Data); };
        child.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        int seen = 0;
        while (deadline.Elapsed < TimeSpan.FromSeconds(60) && !child.HasExited)
        {
            Thread.Sleep(200);
            seen = Directory.Exists(corpus) ? Directory.GetFiles(corpus).Length : 0;
            if (seen >= 40) break;
        }
        Assert.False(child.HasExited, $"the engine ended early:\n{childLog}");
        child.Kill(); // SIGKILL: no chance to clean up
        child.WaitForExit();
        lock (childLog) log.WriteLine(string.Join("\n", childLog.ToString().Split('\n').TakeLast(5)));
        Assert.True(seen >= 40, $"only {seen} corpus files after 60 s");

        var files = Directory.GetFiles(corpus).Where(f => !Path.GetFileName(f).StartsWith('.')).ToArray();
        foreach (string file in files)
            Assert.Equal(Path.GetFileName(file), AtomicFile.Sha1Hex(File.ReadAllBytes(file)));

        // Resume: the new engine loads every file the killed one left.
        var output = new StringWriter();
        var options = FuzzOptions.TryParse(["-runs=" + (files.Length + 200), "-seed=10"], out var o, out _) ? o : null!;
        var result = new FuzzEngine(FuzzTargets.Create(Presets.ArmSmmu, Implementations.Registry), options, FuzzDictionary.ForTarget(Presets.ArmSmmu), output).Run([corpus]);
        log.WriteLine(string.Join("\n", output.ToString().Split('\n').Where(l => !l.Contains("\tNEW "))));
        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"INFO: seed corpus: files: {files.Length} ", output.ToString());
        Assert.True(result.CorpusUnits > 1, "the resumed corpus is empty");
        Assert.True(Directory.GetFiles(corpus).Length >= files.Length);
    }
}
