using System.Diagnostics;
using System.Text;
using DmaVerify.Cli;
using DmaVerify.Contracts;
using DmaVerify.Fuzz.Engine;
using DmaVerify.Fuzz.Mutation;
using DmaVerify.Fuzz.Targets;
using Xunit.Abstractions;

namespace DmaVerify.Tests.Fuzzing;

/// <summary>
/// A finding is never lost and a tool error is never a finding: `verify fuzz` refuses unusable
/// paths before any input runs (exit 2, one line), writes a finding whose artifact path broke
/// during the run somewhere else and says where, honours -timeout on single files, and its
/// -jobs workers die with their parent.
/// </summary>
[Collection(CoverageMapCollection.Name)]
public sealed class FuzzReliabilityTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dmaverify-fuzzrel-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string P(string name) => Path.Combine(_dir, name);

    private string AFile()
    {
        File.WriteAllText(P("a-file"), "x");
        return P("a-file");
    }

    private (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = VerifyCli.Run(args, output, error);
        log.WriteLine($"verify {string.Join(" ", args)} -> {code}\n{output}\n{error}");
        return (code, output.ToString(), error.ToString());
    }

    public static TheoryData<string, string[]> UnusablePaths() => new()
    {
        { "corpus folder under a regular file", ["{file}/sub", "-runs=10"] },
        { "a regular file among corpus folders", ["{dir}/c", "{file}", "-runs=10"] },
        { "-merge=1 into a regular file", ["{file}", "{dir}", "-merge=1"] },
        { "-merge=1 from a missing folder", ["{dir}/out", "{dir}/no-such-folder", "-merge=1"] },
        { "-artifact_prefix in /proc", ["{dir}/c", "-artifact_prefix=/proc/nope/", "-runs=10"] },
        { "-artifact_prefix under a regular file", ["{dir}/c", "-artifact_prefix={file}/x-", "-runs=10"] },
        { "-minimize_crash=1 with a missing file", ["{dir}/no-such-crash", "-minimize_crash=1"] },
    };

    /// <summary>Each is refused before any input runs: exit 2, one line naming the argument, no
    /// stack trace, nothing created.</summary>
    [Theory]
    [MemberData(nameof(UnusablePaths))]
    public void UnusablePathsAreRefusedBeforeAnyInputRuns(string what, string[] args)
    {
        string file = AFile();
        var filled = args.Select(a => a.Replace("{file}", file).Replace("{dir}", _dir)).ToArray();
        var (code, output, err) = Run(["fuzz", Presets.Direct, .. filled, "-no_instrument=1"]);
        Assert.True(ExitCodes.BadInput == code, $"{what}: exit {code}");
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"{what}: expected one line, got:\n{err}");
        Assert.StartsWith("verify fuzz: ", lines[0]);
        Assert.DoesNotContain(" at ", err);
        Assert.Equal("", output);
        Assert.False(Directory.Exists(P("c")), $"{what}: the corpus folder was made before the refusal");
    }

    /// <summary>A crash found while the artifact prefix is unusable (the folder was replaced by a
    /// file during the run) is written into the corpus folder, the log says so, the run exits 1.</summary>
    [Fact]
    public void AFindingWhoseArtifactPathBrokeGoesToTheCorpusFolder()
    {
        string file = AFile();
        var options = FuzzOptions.TryParse([$"-artifact_prefix={file}/findings-", "-runs=100", "-seed=1"], out var o, out _) ? o : null!;
        var output = new StringWriter();
        var result = new FuzzEngine(new AlwaysCrashes(), options, FuzzDictionary.ForTarget(Presets.Direct), output).Run([P("corpus")]);
        log.WriteLine(output.ToString());
        Assert.Equal(1, result.ExitCode);
        Assert.NotNull(result.ArtifactPath);
        Assert.Equal(P("corpus"), Path.GetDirectoryName(result.ArtifactPath));
        Assert.StartsWith("crash-", Path.GetFileName(result.ArtifactPath));
        Assert.Equal([], File.ReadAllBytes(result.ArtifactPath!)); // the first input run is the empty one
        Assert.Contains($"artifact_prefix='{file}/findings-' cannot be written", output.ToString());
        Assert.Contains($"Test unit written to {result.ArtifactPath} instead", output.ToString());
    }

    /// <summary>A hang found while the artifact folder has become unusable (replaced by a file
    /// after the start): the watchdog writes the timeout- file into the corpus folder instead,
    /// says so, and the run exits with the timeout code (the old engine threw on the watchdog
    /// thread: exit 134, input lost).</summary>
    [Fact]
    public void ATimeoutWhoseArtifactPathBrokeGoesToTheCorpusFolder()
    {
        string corpus = P("corpus"), findings = P("findings");
        Directory.CreateDirectory(corpus);
        Directory.CreateDirectory(findings);
        File.WriteAllText(Path.Combine(corpus, AtomicFile.Sha1Hex("HANG"u8)), "HANG");
        var stderr = new StringBuilder();
        using var child = ChildProcesses.Start(_dir, stderr, "fuzz", ChildProcesses.TestTarget("Hang"), corpus, "-timeout=2",
            "-artifact_prefix=" + findings + "/", "-instrument_cache=" + P("cache"));
        try
        {
            Assert.True(ChildProcesses.WaitUntil(() => { lock (stderr) return stderr.ToString().Contains("INFO: Seed:"); }, TimeSpan.FromSeconds(60)));
            Directory.Delete(findings);
            File.WriteAllText(findings, "now a file");
            Assert.True(child.WaitForExit(TimeSpan.FromSeconds(60)), "the watchdog did not end the run");
        }
        finally
        {
            if (!child.HasExited) child.Kill(entireProcessTree: true);
        }
        child.WaitForExit();
        log.WriteLine(stderr.ToString());
        string saved = Path.Combine(corpus, "timeout-" + AtomicFile.Sha1Hex("HANG"u8));
        Assert.Equal(1, child.ExitCode);
        Assert.Equal("HANG", File.ReadAllText(saved));
        Assert.Contains($"Test unit written to {saved} instead", stderr.ToString());
    }

    /// <summary>When no place takes the finding, its bytes are printed (whatever the size).</summary>
    [Fact]
    public void AFindingNoPlaceTakesIsPrintedInBase64()
    {
        string file = AFile();
        var data = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        var output = new StringWriter();
        string? path = new ArtifactWriter($"{file}/x-", $"{file}/corpus", output, workingFolder: $"{file}/cwd").Write("crash-", data);
        log.WriteLine(output.ToString());
        Assert.Null(path);
        Assert.Contains("could not be written anywhere", output.ToString());
        Assert.Contains($"Base64: {Convert.ToBase64String(data)}", output.ToString());
    }

    /// <summary>A temporary left by a writer that was killed mid-write is neither loaded as a
    /// corpus input nor kept: the next run removes it. A live writer's temporary is left alone.</summary>
    [Fact]
    public void TemporariesOfKilledWritersAreIgnoredAndRemoved()
    {
        Directory.CreateDirectory(P("corpus"));
        File.WriteAllBytes(Path.Combine(P("corpus"), AtomicFile.Sha1Hex([1, 2, 3])), [1, 2, 3]);
        string dead = Path.Combine(P("corpus"), $"{AtomicFile.TempPrefix}{int.MaxValue - 7}-0123");
        string live = Path.Combine(P("corpus"), $"{AtomicFile.TempPrefix}{Environment.ProcessId}-4567");
        File.WriteAllBytes(dead, [9, 9]); // half of some input
        File.WriteAllBytes(live, [8]);
        var options = FuzzOptions.TryParse(["-runs=5", "-seed=1"], out var o, out _) ? o : null!;
        var output = new StringWriter();
        new FuzzEngine(FuzzTargets.Create(Presets.Direct, DmaVerify.Cli.Composition.Implementations.Registry), options, FuzzDictionary.ForTarget(Presets.Direct), output).Run([P("corpus")]);
        Assert.Contains("INFO: seed corpus: files: 1 ", output.ToString());
        Assert.False(File.Exists(dead));
        Assert.True(File.Exists(live));
    }

    /// <summary>-timeout applies when fuzz runs single files: the hanging one is named and the
    /// run ends with the timeout exit code, instead of hanging forever.</summary>
    [Fact]
    public void SingleFilesRunUnderTheTimeout()
    {
        File.WriteAllText(P("ok"), "fine");
        File.WriteAllText(P("hangs"), "HANG");
        var stderr = new StringBuilder();
        using var child = ChildProcesses.Start(_dir, stderr, "fuzz", ChildProcesses.TestTarget("Hang"), P("ok"), P("hangs"), "-timeout=1",
            "-instrument_cache=" + P("cache"));
        bool ended = child.WaitForExit(TimeSpan.FromSeconds(60));
        if (!ended) child.Kill(entireProcessTree: true);
        child.WaitForExit();
        log.WriteLine(stderr.ToString());
        Assert.True(ended, "verify fuzz hung on a single file despite -timeout=1");
        Assert.Equal(1, child.ExitCode);
        Assert.Contains($"timeout after 1 seconds running {P("hangs")}", stderr.ToString());
    }

    /// <summary>Killing the parent of -jobs workers with SIGKILL leaves no worker running: each
    /// sees its pipe from the parent close and stops.</summary>
    [Fact]
    public void WorkersDieWithAParentKilledWithSigkill()
    {
        var stderr = new StringBuilder();
        using var parent = StartTwoWorkers(stderr, out var workers);
        try
        {
            parent.Kill(); // SIGKILL: the parent gets no chance to clean up
            parent.WaitForExit();
            bool gone = ChildProcesses.WaitUntil(() => workers.All(w => !ChildProcesses.IsRunning(w)), StopRequest.Grace + TimeSpan.FromSeconds(10));
            log.WriteLine(File.ReadAllText(P("fuzz-0.log")).Split('\n').TakeLast(4).Aggregate("", (a, l) => a + l + "\n"));
            Assert.True(gone, $"workers {string.Join(", ", workers.Where(ChildProcesses.IsRunning))} outlived their parent");
        }
        finally
        {
            ChildProcesses.KillAll(workers);
        }
    }

    /// <summary>SIGTERM to the parent: it stops its workers (each finishes its running input),
    /// reports them, and exits 128 + 15.</summary>
    [Fact]
    public void SigtermStopsTheWorkersAndExits143()
    {
        var stderr = new StringBuilder();
        using var parent = StartTwoWorkers(stderr, out var workers);
        try
        {
            Process.Start("kill", ["-TERM", parent.Id.ToString()])!.WaitForExit();
            Assert.True(parent.WaitForExit(TimeSpan.FromSeconds(30)), "the parent did not end after SIGTERM");
            parent.WaitForExit();
            log.WriteLine(stderr.ToString());
            Assert.Equal(143, parent.ExitCode);
            Assert.All(workers, w => Assert.False(ChildProcesses.IsRunning(w)));
            Assert.Contains("Job 0 stopped with exit code", stderr.ToString());
            Assert.Contains("Job 1 stopped with exit code", stderr.ToString());
        }
        finally
        {
            ChildProcesses.KillAll(workers);
        }
    }

    /// <summary>`verify fuzz direct -jobs=2 -workers=2` with both workers fuzzing (INITED in
    /// both logs); the workers' process ids come back for the checks and the clean-up.</summary>
    private Process StartTwoWorkers(StringBuilder stderr, out List<int> workers)
    {
        var parent = ChildProcesses.Start(_dir, stderr, "fuzz", Presets.Direct, P("corpus"), "-jobs=2", "-workers=2",
            "-max_total_time=300", "-no_instrument=1");
        List<int> found = [];
        bool started = ChildProcesses.WaitUntil(() => (found = ChildProcesses.ChildrenOf(parent.Id)).Count == 2, TimeSpan.FromSeconds(30))
            && ChildProcesses.WaitUntil(() => new[] { "fuzz-0.log", "fuzz-1.log" }.All(l => File.Exists(P(l)) && File.ReadAllText(P(l)).Contains("INITED")), TimeSpan.FromSeconds(60));
        workers = found;
        if (!started)
        {
            ChildProcesses.KillAll([parent.Id, .. found]);
            Assert.Fail($"the two workers did not start fuzzing:\n{stderr}");
        }
        return parent;
    }

    private sealed class AlwaysCrashes : IFuzzTarget
    {
        public string Name => "always-crashes";
        public void Run(ReadOnlySpan<byte> data) => throw new InvalidOperationException("planted: every input crashes");
    }
}
