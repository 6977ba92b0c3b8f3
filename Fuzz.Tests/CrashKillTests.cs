using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using DmaVerify.Fuzz.Engine;
using DmaVerify.Fuzz.Mutation;
using DmaVerify.Fuzz.Targets;
using Xunit.Abstractions;

namespace DmaVerify.Tests.Fuzzing;

/// <summary>
/// One campaign killed with SIGKILL at random points again and again (while it adds corpus
/// inputs, while it writes a finding, between), on a target that keeps writing both: after every
/// kill, every finding the log reported exists and is whole, every file under a final name is
/// whole (its name is the SHA-1 of its bytes), no corpus input an earlier run wrote has gone,
/// and at the end a new engine resumes from all of them. The default run kills 6 times; with
/// DMAVERIFY_LONG=1 (Category=Long) 30 times.
/// </summary>
[Collection(CoverageMapCollection.Name)]
public sealed partial class CrashKillTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dmaverify-crashkill-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public void AKilledCampaignLosesNoFindingAndNoCorpusInput() => KillAtRandomPoints(kills: 6, seed: 20261206);

    [Fact]
    [Trait("Category", "Long")]
    public void AKilledCampaignLosesNothing_Long()
    {
        if (Environment.GetEnvironmentVariable("DMAVERIFY_LONG") != "1") return;
        KillAtRandomPoints(kills: 30, seed: 7);
    }

    private void KillAtRandomPoints(int kills, int seed)
    {
        var random = new Random(seed);
        string corpus = Path.Combine(_dir, "corpus"), artifacts = Path.Combine(_dir, "art");
        Directory.CreateDirectory(corpus);
        var corpusSeen = new HashSet<string>(StringComparer.Ordinal);
        int findings = 0, killed = 0;
        for (int run = 0; run < kills; run++)
        {
            var stderr = new StringBuilder();
            bool wasKilled = false;
            // Half the kills land in the first moments (seed replay, the first corpus writes, a
            // finding the corpus leads straight to), half anywhere in a few seconds of fuzzing.
            int delay = random.Next(2) == 0 ? random.Next(0, 400) : random.Next(400, 3000);
            var clock = new Stopwatch();
            // Each run looks for its own crash ("DMA", the run's key, "!"), from a seed one byte
            // away: found in about a second, so kills land before, during and after it.
            char keyByte = (char)('a' + run % 26);
            var key = new Dictionary<string, string> { ["DMAVERIFY_TEST_BUSY_KEY"] = keyByte.ToString() };
            byte[] nearCrash = System.Text.Encoding.ASCII.GetBytes($"DMA{keyByte}");
            File.WriteAllBytes(Path.Combine(corpus, AtomicFile.Sha1Hex(nearCrash)), nearCrash);
            using var child = ChildProcesses.Start(_dir, stderr, key, "fuzz", ChildProcesses.TestTarget("Busy"), corpus, "-artifact_prefix=art/",
                $"-seed={run + 1}", "-max_total_time=60", "-reload=0", "-instrument_cache=" + Path.Combine(_dir, "cache"));
            try
            {
                Assert.True(ChildProcesses.WaitUntil(() => { lock (stderr) return stderr.ToString().Contains("INFO: Seed:"); }, TimeSpan.FromSeconds(60)),
                    $"run {run} did not start:\n{stderr}");
                clock.Start();
                if (!child.WaitForExit(delay))
                {
                    child.Kill(); // SIGKILL, wherever it is
                    wasKilled = true;
                    killed++;
                }
                child.WaitForExit();
            }
            finally
            {
                if (!child.HasExited) child.Kill(entireProcessTree: true);
            }
            string text;
            lock (stderr) text = stderr.ToString();
            foreach (Match written in WrittenTo().Matches(text))
            {
                string path = Path.Combine(_dir, written.Groups[1].Value);
                Assert.True(File.Exists(path), $"run {run}: the log says a finding went to {path}, which is missing");
                AssertWhole(path);
                findings++;
            }
            if (child.ExitCode == 1) Assert.Matches(WrittenTo(), text);

            var now = NamedFiles(corpus);
            Assert.Empty(corpusSeen.Except(now)); // nothing written before has gone
            foreach (string file in now) AssertWhole(Path.Combine(corpus, file));
            foreach (string file in NamedFiles(artifacts)) AssertWhole(Path.Combine(artifacts, file));
            corpusSeen.UnionWith(now);
            log.WriteLine($"run {run}: {(wasKilled ? $"killed after {delay} ms" : $"exit {child.ExitCode} after {clock.ElapsedMilliseconds} ms")}, corpus {now.Count}");
        }
        log.WriteLine($"{kills} runs, {killed} killed, {findings} findings written, corpus {corpusSeen.Count} inputs (seed {seed})");
        Assert.True(corpusSeen.Count > 10, "the campaign hardly wrote anything: the test shows nothing");

        // A new engine resumes from every input the killed runs left.
        var options = FuzzOptions.TryParse(["-runs=1", "-seed=1"], out var o, out _) ? o : null!;
        var output = new StringWriter();
        new FuzzEngine(new Quiet(), options, FuzzDictionary.ForTarget("mixed"), output).Run([corpus]);
        Assert.Contains($"INFO: seed corpus: files: {NamedFiles(corpus).Count} ", output.ToString());
    }

    /// <summary>Files under final names: not the dot-named temporaries.</summary>
    private static HashSet<string> NamedFiles(string folder) =>
        Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder).Select(f => Path.GetFileName(f)!).Where(n => !n.StartsWith('.')).ToHashSet(StringComparer.Ordinal)
            : [];

    /// <summary>A whole file: its name ends with the SHA-1 of its bytes.</summary>
    private static void AssertWhole(string path)
    {
        string name = Path.GetFileName(path);
        string sha1 = AtomicFile.Sha1Hex(File.ReadAllBytes(path));
        Assert.True(name.EndsWith(sha1, StringComparison.Ordinal), $"{path} is not whole: its bytes hash to {sha1}");
    }

    [GeneratedRegex(@"Test unit written to (\S+)")]
    private static partial Regex WrittenTo();

    private sealed class Quiet : IFuzzTarget
    {
        public string Name => "quiet";
        public void Run(ReadOnlySpan<byte> data) { }
    }
}
