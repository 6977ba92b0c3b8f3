using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using DmaVerify.Cli;
using Xunit.Abstractions;

namespace DmaVerify.Tests.Cli;

/// <summary>
/// The documentation cannot drift from what works: every command shown in README.md and
/// docs/*.md, and every example in every verb's --help, is run here as written, by bash, in a
/// scratch copy of the checkout's corpus, with the checkout's `verify` script on PATH (pointed
/// at this build). A fenced block with a command carries a marker on the line before it:
/// <c>&lt;!-- doctest: exit=N expect="a line of its output" [requires=TOOL,…] --&gt;</c>, or
/// <c>&lt;!-- doctest: skip="why, and what runs it instead" --&gt;</c>. A block of `$ ` lines runs
/// those lines; any other block runs every line. exit= is the exit code of every command, or a
/// comma-separated list, one per command.
/// </summary>
public sealed partial class DocCommandTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("dmaverify-doc-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_scratch, recursive: true); } catch (IOException) { }
    }


    /// <summary>A fenced block of a document and its marker (null when it has none).</summary>
    public sealed record DocBlock(string File, int Line, string? Marker, IReadOnlyList<string> Lines)
    {
        public override string ToString() => $"{File}:{Line}";
    }

    public static IReadOnlyList<DocBlock> Blocks()
    {
        string root = Repo.Root;
        var files = new[] { "README.md" }.Concat(Directory.EnumerateFiles(Path.Combine(root, "docs"), "*.md").Select(f => Path.GetRelativePath(root, f)).Order(StringComparer.Ordinal));
        var blocks = new List<DocBlock>();
        foreach (string file in files)
        {
            var lines = File.ReadAllLines(Path.Combine(root, file));
            for (int i = 0; i < lines.Length; i++)
            {
                if (!lines[i].StartsWith("```", StringComparison.Ordinal)) continue;
                int start = i;
                var body = new List<string>();
                for (i++; i < lines.Length && !lines[i].StartsWith("```", StringComparison.Ordinal); i++) body.Add(lines[i]);
                string? marker = start > 0 && lines[start - 1].TrimStart().StartsWith("<!-- doctest:", StringComparison.Ordinal) ? lines[start - 1].Trim() : null;
                blocks.Add(new DocBlock(file, start + 1, marker, body));
            }
        }
        return blocks;
    }

    /// <summary>The commands of a block: its `$ ` lines, or, in a block without them, every line
    /// that is not empty or a comment (a trailing backslash joins the next line).</summary>
    public static List<string> Commands(IReadOnlyList<string> lines)
    {
        bool dollar = lines.Any(l => l.StartsWith("$ ", StringComparison.Ordinal));
        var commands = new List<string>();
        string pending = "";
        foreach (string raw in lines)
        {
            if (dollar && pending.Length == 0 && !raw.StartsWith("$ ", StringComparison.Ordinal)) continue;
            string line = dollar && pending.Length == 0 ? raw[2..] : raw;
            if (pending.Length == 0 && (line.Trim().Length == 0 || line.TrimStart().StartsWith('#'))) continue;
            if (line.EndsWith('\\')) { pending += line[..^1] + " "; continue; }
            commands.Add(pending + line);
            pending = "";
        }
        return commands;
    }

    /// <summary>Whether a block shows a command a reader would run (not sample output, grammar or C#).</summary>
    private static bool ShowsACommand(DocBlock block) =>
        Commands(block.Lines).Any(c => CommandStart().IsMatch(c));

    [GeneratedRegex(@"^(export\s+)?(\S+=\S+\s+)*((verify|\./verify)\s+[a-z-]+(\s|$)|(dotnet|afl-fuzz|afl-whatsup|rsvg-convert|rsync|bash|for|while)\s)")]
    private static partial Regex CommandStart();

    [Fact]
    public void EveryBlockThatShowsACommandIsMarkedRunOrSkippedWithAReason()
    {
        var unmarked = Blocks().Where(b => b.Marker is null && ShowsACommand(b)).ToList();
        Assert.True(unmarked.Count == 0, "blocks with commands but no doctest marker:\n" + string.Join("\n", unmarked.Select(b => $"{b}: {Commands(b.Lines)[0]}")));
        var bad = Blocks().Where(b => b.Marker is not null && Marker(b.Marker).Skip is null && Marker(b.Marker).Exit.Count == 0).ToList();
        Assert.True(bad.Count == 0, "markers without exit= or skip=:\n" + string.Join("\n", bad));
        var reasonless = Blocks().Where(b => Marker(b.Marker ?? "") is { Skip: { } why } && why.Length < 20).ToList();
        Assert.True(reasonless.Count == 0, "skips must say why and what runs instead:\n" + string.Join("\n", reasonless));
    }

    public static TheoryData<string> RunnableBlocks()
    {
        var data = new TheoryData<string>();
        foreach (var b in Blocks().Where(b => b.Marker is not null && Marker(b.Marker).Skip is null)) data.Add(b.ToString());
        return data;
    }

    [Theory]
    [MemberData(nameof(RunnableBlocks))]
    public void DocumentedCommandsRunAsWritten(string where)
    {
        var block = Blocks().Single(b => b.ToString() == where);
        var marker = Marker(block.Marker!);
        if (MissingTool(marker.Requires) is string missing)
        {
            log.WriteLine($"not run: {missing}");
            return;
        }
        var commands = Commands(block.Lines);
        Assert.NotEmpty(commands);
        var output = new StringBuilder();
        for (int i = 0; i < commands.Count; i++)
        {
            int expected = marker.Exit.Count == 1 ? marker.Exit[0] : marker.Exit[i];
            var (code, text) = RunInScratch(commands[i]);
            output.Append(text);
            Assert.True(code == expected, $"{where}: `{commands[i]}` exited {code}, the docs say {expected}:\n{text}");
        }
        if (marker.Expect is string line)
            Assert.True(output.ToString().Contains(line, StringComparison.Ordinal), $"{where}: the output lacks the documented line \"{line}\":\n{output}");
    }

    /// <summary>Examples of every verb's --help that are not run, and why; every other one runs
    /// and exits 0 (or as <see cref="HelpExampleExitCodes"/> says).</summary>
    private static readonly Dictionary<string, string> HelpExamplesNotRun = new()
    {
        ["verify check"] = "the default run takes about 5 minutes; CI runs it (.ci/readme-commands)",
        ["verify check --quick"] = "takes about a minute; the corpus-only examples run here",
        ["verify prove"] = "proves all obligations (minutes); `verify prove --filter PO-40` runs here",
        ["verify bench --quick"] = "builds and runs BenchmarkDotNet (minutes)",
        ["verify bench --filter '*HotMapUnmap*'"] = "builds and runs BenchmarkDotNet (minutes)",
        ["AFL_SKIP_BIN_CHECK=1 afl-fuzz -i seeds -o findings -t 5000 -m none -- verify fuzz-afl x86-vtd"] = "afl-fuzz runs until stopped; Fuzz.Tests/Afl runs it",
        ["verify fuzz k8-gart -minimize_crash=1 -runs=10000 findings/crash-<sha1>"] = "needs a crash file (<sha1> stands for one); FuzzEngineTests minimises one",
        ["verify replay findings/crash-<sha1> --target k8-gart"] = "needs a crash file (<sha1> stands for one); the replay examples run a corpus input",
    };

    /// <summary>Examples of --help that exit with another code than 0, by design.</summary>
    private static readonly Dictionary<string, int> HelpExampleExitCodes = new()
    {
        // A check against a planted bug must fail: exit 1 is the engines catching it.
        ["verify check --plant iova-limit-past-by-one --engine corpus --target x86-vtd"] = 1,
    };

    public static TheoryData<string> Verbs() => ["", "replay", "show", "check", "fuzz", "fuzz-afl", "instrument", "prove", "bench", "explore"];

    [Theory]
    [MemberData(nameof(Verbs))]
    public void HelpExamplesRunAsWritten(string verb)
    {
        var output = new StringWriter();
        VerifyCli.Run(verb.Length == 0 ? ["--help"] : [verb, "--help"], output, new StringWriter());
        var lines = output.ToString().Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        int start = lines.IndexOf("Examples:");
        Assert.True(start >= 0, $"verify {verb} --help has no examples");
        var examples = lines.Skip(start + 1).TakeWhile(l => l.StartsWith("  ", StringComparison.Ordinal)).Select(l => l.Trim()).ToList();
        Assert.NotEmpty(examples);
        foreach (string example in examples)
        {
            string command = Regex.Replace(example, @"\s+#.*$", "");
            if (HelpExamplesNotRun.TryGetValue(command, out string? why))
            {
                log.WriteLine($"not run: {command}: {why}");
                continue;
            }
            if (command.Contains("./libmine.so", StringComparison.Ordinal))
            {
                log.WriteLine($"not run: {command}: needs the example allocator built (examples/c-iova); YourAllocatorGuideTests builds it and runs the guide's commands with it");
                continue;
            }
            if (command.StartsWith("rsvg-convert", StringComparison.Ordinal) && RsvgConvert.Path is null) continue;
            if (command.StartsWith("verify prove", StringComparison.Ordinal) && MissingTool(["libz3"]) is not null) continue;
            var (code, text) = RunInScratch(command);
            int expected = HelpExampleExitCodes.GetValueOrDefault(command);
            Assert.True(code == expected, $"the example `{command}` of verify {verb} --help exited {code}, not {expected}:\n{text}");
        }
    }

    /// <summary>A checkout as a new user has it, minus the sources: the corpus (a copy: examples
    /// write into it), the README, the `verify` script on PATH, and the build where the script
    /// would put it.</summary>
    private (int Code, string Output) RunInScratch(string command)
    {
        string root = Repo.Root;
        if (!Directory.Exists(Path.Combine(_scratch, "corpus")))
        {
            CopyFolder(Path.Combine(root, "corpus"), Path.Combine(_scratch, "corpus"));
            File.Copy(Path.Combine(root, "README.md"), Path.Combine(_scratch, "README.md"));
            Directory.CreateDirectory(Path.Combine(_scratch, "bin"));
            File.Copy(Path.Combine(root, "verify"), Path.Combine(_scratch, "bin", "verify"));
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Path.Combine(_scratch, "bin", "verify"), (UnixFileMode)0x1ED); // rwxr-xr-x
            Directory.CreateDirectory(Path.Combine(_scratch, "Cli", "bin", "Release"));
            Directory.CreateSymbolicLink(Path.Combine(_scratch, "Cli", "bin", "Release", "net10.0"), AppContext.BaseDirectory.TrimEnd('/'));
        }
        var info = new ProcessStartInfo("bash") { WorkingDirectory = _scratch, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(command);
        info.Environment["PATH"] = Path.Combine(_scratch, "bin") + ":" + Environment.GetEnvironmentVariable("PATH");
        info.Environment["DMAVERIFY_CLI"] = Path.Combine(AppContext.BaseDirectory, "verify.dll");
        info.Environment["DMAVERIFY_CACHE"] = Path.Combine(Path.GetTempPath(), "dmaverify-doc-cache");
        using var process = Process.Start(info)!;
        var text = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (text) text.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (text) text.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"timed out after 3 minutes:\n{text}");
        }
        process.WaitForExit();
        log.WriteLine($"$ {command}  -> {process.ExitCode}");
        lock (text) return (process.ExitCode, text.ToString());
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.EnumerateFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (string dir in Directory.EnumerateDirectories(from)) CopyFolder(dir, Path.Combine(to, Path.GetFileName(dir)));
    }

    private static string? MissingTool(IEnumerable<string> tools)
    {
        foreach (string tool in tools)
        {
            if (tool == "rsvg-convert" && RsvgConvert.Path is null) return RsvgConvert.MissingMessage;
            if (tool == "libz3")
            {
                try { _ = Proofs.Z3.Z3Context.Version; }
                catch (Proofs.Z3.Z3UnavailableException e) { return e.Message; }
            }
        }
        return null;
    }

    public sealed record DocMarker(IReadOnlyList<int> Exit, string? Expect, string? Skip, IReadOnlyList<string> Requires);

    public static DocMarker Marker(string marker)
    {
        string Value(string name) => Regex.Match(marker, name + "=(\"(?<q>[^\"]*)\"|(?<v>[^\\s\"]+))") is { Success: true } m
            ? (m.Groups["q"].Success ? m.Groups["q"].Value : m.Groups["v"].Value) : "";
        var exit = Value("exit").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList();
        string expect = Value("expect"), skip = Value("skip"), requires = Value("requires");
        return new DocMarker(exit, expect.Length == 0 ? null : expect, marker.Contains("skip=") ? skip : null,
            requires.Split(',', StringSplitOptions.RemoveEmptyEntries));
    }
}
