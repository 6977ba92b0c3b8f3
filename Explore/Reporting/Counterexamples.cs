using System.Security.Cryptography;
using System.Text;
using DmaVerify.Contracts;

namespace DmaVerify.Explore;

/// <summary>
/// A shortest counterexample as a scenario file (the ops in the text form, without recorded
/// outcomes: the replay judges them) with comments that say what found it and why it is
/// shortest, and the one `verify replay` line that runs it again.
/// </summary>
public static class Counterexamples
{
    /// <summary>The command that replays <paramref name="finding"/> written at <paramref name="path"/>
    /// on <paramref name="implementation"/> (its name, and the options that load it, if any).</summary>
    public static string ReplayCommand(string path, string implementation, ExploreFinding finding) =>
        $"verify replay {Quote(path)} --impl {implementation}" +
        string.Concat(finding.FailedAllocations.OrderBy(f => f.Key).Select(f => $" --fail-alloc {f.Key}:{f.Value}"));

    /// <summary>The file's text: comments, then the scenario.</summary>
    public static string Text(ExploreResult result, string command)
    {
        var f = result.Finding ?? throw new ArgumentException("the result has no finding", nameof(result));
        var text = new StringBuilder()
            .Append("# counterexample found by: ").Append(command).Append('\n')
            .Append("# shortest: every sequence of ").Append(f.Length - 1).Append(" or fewer ops from this alphabet ran clean (breadth first)\n")
            .Append("# ").Append(f.Finding.Kind).Append(' ').Append(f.Finding.Invariant).Append(" at step ").Append(f.Finding.Step).Append(": ")
            .Append(f.Finding.Message.ReplaceLineEndings(" ")).Append('\n');
        foreach (var (step, nth) in f.FailedAllocations.OrderBy(x => x.Key))
            text.Append("# step ").Append(step).Append(" runs with the implementation's allocation #").Append(nth).Append(" failing (replay: --fail-alloc ")
                .Append(step).Append(':').Append(nth).Append(")\n");
        return text.Append(ScenarioPrinter.Print(f.Scenario with { Steps = f.Scenario.Steps.Select(s => new ScenarioStep(s.Op)).ToValueList() })).ToString();
    }

    /// <summary>Writes the file into <paramref name="directory"/> (atomically: a temporary, then
    /// a rename) and returns its path; the name is the preset and a hash of the ops.</summary>
    public static string Write(string directory, ExploreResult result, string text)
    {
        var f = result.Finding!;
        string ops = ScenarioPrinter.Print(f.Scenario);
        string hash = Convert.ToHexString(SHA1.HashData(Encoding.UTF8.GetBytes(ops)))[..12].ToLowerInvariant();
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, $"explore-{Sanitize(result.Preset)}-{hash}.scn");
        string temp = path + ".tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
        return path;
    }

    private static string Sanitize(string name) =>
        new(name.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '.' ? ch : '-').ToArray());

    private static string Quote(string path) => path.Any(ch => char.IsWhiteSpace(ch) || ch is '\'' or '"') ? $"'{path.Replace("'", "'\\''")}'" : path;
}
