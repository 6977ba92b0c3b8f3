using System.Text.RegularExpressions;
using DmaVerify.Cli;
using Xunit.Abstractions;

namespace DmaVerify.Tests.Cli;

/// <summary>
/// docs/bad-input.md, walked: every row's command runs against the files the document
/// describes, in a scratch folder, and gives the exit code and the answer the table states.
/// Adding a row to the document adds a case here.
/// </summary>
[Collection(CoverageMapCollection.Name)]
public sealed partial class BadInputTests : IDisposable
{
    private readonly ITestOutputHelper _log;
    private readonly string _dir = Directory.CreateTempSubdirectory("dmaverify-bad-").FullName;

    public BadInputTests(ITestOutputHelper log)
    {
        _log = log;
        MakeFiles();
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    public sealed record Row(string Verb, string Case, string Command, int Exit, string Answer)
    {
        public override string ToString() => $"{Verb}: {Case}";
    }

    public static IReadOnlyList<Row> Table() =>
        File.ReadLines(Path.Combine(Repo.Root, "docs", "bad-input.md"))
            .Select(l => TableRow().Match(l)).Where(m => m.Success)
            .Select(m => new Row(m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value, int.Parse(m.Groups[4].Value), m.Groups[5].Value.Replace("\\|", "|")))
            .ToList();

    [GeneratedRegex(@"^\| ([a-z-]+) \| (.+?) \| `(verify [^`]*)` \| (\d+) \| `(.*)` \|$")]
    private static partial Regex TableRow();

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var row in Table()) data.Add(row.ToString());
        return data;
    }

    [Fact]
    public void TheTableCoversEveryVerbAndEveryKindOfBadInput()
    {
        var rows = Table();
        Assert.True(rows.Count >= 70, $"only {rows.Count} rows parsed from docs/bad-input.md");
        foreach (string verb in (string[])["replay", "show", "check", "explore", "prove", "fuzz", "fuzz-afl", "instrument"])
            Assert.Contains(rows, r => r.Verb == verb);
        foreach (string kind in (string[])["empty", "truncated", "malformed", "binary", "UTF-8", "huge", "unreadable", "2^64", "negative", "0"])
            Assert.Contains(rows, r => r.Case.Contains(kind, StringComparison.Ordinal));
        Assert.All(rows, r => Assert.True(r.Exit is 0 or 2, $"{r}: bad input answers 2 (or 0 when the model answers it)"));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EachCaseGetsTheAnswerTheTableStates(string which)
    {
        var row = Table().Single(r => r.ToString() == which);
        var args = Words(row.Command).Skip(1).Select(Localise).ToArray();
        var (code, output, error) = row.Verb == "fuzz-afl" ? RunAsProcess(args) : RunInProcess(args);
        string text = (output + "\n" + error).Replace(_dir + "/", "");
        _log.WriteLine($"{row.Command} -> {code}\n{text}");
        Assert.True(row.Exit == code, $"{row}: `{row.Command}` exited {code}, the table says {row.Exit}:\n{text}");
        string checkedPart = row.Answer.Split('…')[0];
        Assert.True(text.Contains(checkedPart, StringComparison.Ordinal), $"{row}: the output lacks \"{checkedPart}\":\n{text}");
        Assert.DoesNotContain("   at ", text); // no stack trace
        if (row.Exit == ExitCodes.BadInput)
            Assert.Equal(1, error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => !l.StartsWith("INFO:", StringComparison.Ordinal) && !l.StartsWith("Run 'verify --help'", StringComparison.Ordinal)));
    }

    private static (int Code, string Output, string Error) RunInProcess(string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = VerifyCli.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>fuzz-afl picks its role from open file descriptors 198/199, which a test host may
    /// hold: it runs as its own process, as afl-fuzz would start it.</summary>
    private (int Code, string Output, string Error) RunAsProcess(string[] args)
    {
        var info = new System.Diagnostics.ProcessStartInfo(ChildProcesses.Dotnet)
        {
            WorkingDirectory = _dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        info.ArgumentList.Add(ChildProcesses.Verify);
        foreach (string a in args) info.ArgumentList.Add(a);
        info.Environment["DMAVERIFY_CACHE"] = Path.Combine(Path.GetTempPath(), "dmaverify-doc-cache");
        using var process = System.Diagnostics.Process.Start(info)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output, error.Result);
    }

    private static readonly string[] Fixtures =
    [
        "empty.scn", "empty.bin", "truncated.scn", "malformed.scn", "binary.bin", "non-utf8.scn", "huge.scn", "huge.bin",
        "hex-overflow.scn", "two-to-the-64.scn", "zero-length.scn", "negative.scn", "wraps.scn", "ok.scn", "a-file", "a-folder",
        "no-such.scn", "no-such-folder", "no-such-crash", "no-such-input", "no-such.dll", "work", "x.svg",
    ];

    /// <summary>A word that names one of the files (alone, as a flag's value, or before a '/'
    /// or ':') is made to name it in the scratch folder.</summary>
    private string Localise(string word)
    {
        int eq = word.StartsWith('-') ? word.IndexOf('=') + 1 : 0;
        string value = word[eq..];
        string? fixture = Fixtures.FirstOrDefault(f => value == f || value.StartsWith(f + "/", StringComparison.Ordinal) || value.StartsWith(f + ":", StringComparison.Ordinal));
        return fixture is null ? word : word[..eq] + Path.Combine(_dir, value);
    }

    /// <summary>The command's words, as a shell splits them (single quotes only).</summary>
    private static List<string> Words(string command)
    {
        var words = new List<string>();
        foreach (Match m in Regex.Matches(command, "'([^']*)'|(\\S+)"))
            words.Add(m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value);
        return words;
    }

    private void MakeFiles()
    {
        void Text(string name, string content) => File.WriteAllText(Path.Combine(_dir, name), content);
        void Bytes(string name, byte[] content) => File.WriteAllBytes(Path.Combine(_dir, name), content);
        void Sparse(string name, long length)
        {
            using var stream = File.Create(Path.Combine(_dir, name));
            stream.SetLength(length);
        }
        Text("empty.scn", "");
        Bytes("empty.bin", []);
        Text("truncated.scn", "preset direct\nmap dev=0 phys=0x1000 len=0x10");
        Text("malformed.scn", "preset direct\nmapp dev=0\n");
        Bytes("binary.bin", [(byte)'D', (byte)'V', 1, 0, 0, 0, 0, 0, 0]);
        Bytes("non-utf8.scn", [.. "preset direct\n"u8, 0xFF, 0xFE, (byte)'\n']);
        Sparse("huge.scn", 300L << 20);
        Sparse("huge.bin", 20L << 20);
        Text("hex-overflow.scn", "preset direct\nmap dev=0 phys=0x10000000000000000 len=0x1000 dir=to_device\n");
        Text("two-to-the-64.scn", "preset direct\nmap dev=0 phys=0x1000 len=18446744073709551616 dir=to_device\n");
        Text("zero-length.scn", "preset direct\nmap dev=0 phys=0x1000 len=0 dir=to_device\n");
        Text("negative.scn", "preset direct\nmap dev=-1 phys=0x1000 len=0x1000 dir=to_device\n");
        Text("wraps.scn", "preset direct\nmap dev=0 phys=0xFFFFFFFFFFFFF000 len=0x2000 dir=to_device\n");
        Text("ok.scn", "preset direct\nmap dev=0 phys=0x10000000 len=0x1000 dir=to_device\n");
        Text("a-file", "x\n");
        Directory.CreateDirectory(Path.Combine(_dir, "a-folder"));
    }
}
