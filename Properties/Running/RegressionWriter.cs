using System.Security.Cryptography;
using System.Text;
using DmaVerify.Contracts;
using DmaVerify.Harness;

namespace DmaVerify.Properties;

/// <summary>
/// Writes a shrunk counterexample as a scenario file, ready to commit under
/// corpus/regressions/ (replayed by <c>dotnet test</c> from then on). Falls back to a temp
/// folder when the tree is read-only. The ops carry no recorded outcomes: the model replay and
/// every implementation's refinement replay judge them.
/// </summary>
public static class RegressionWriter
{
    public const string Folder = "regressions";

    /// <summary>corpus/regressions/ of the checkout this code runs from, or null outside one.</summary>
    public static string? DefaultDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Verify.sln")))
                return Path.Combine(dir.FullName, "corpus", Folder);
        return null;
    }

    public static string FallbackDirectory() => Path.Combine(Path.GetTempPath(), "dmaverify-regressions");

    public static string Write(string runName, string scenarioText, Finding finding, string replayLine, string? directory)
    {
        var text = new StringBuilder()
            .Append("# regression found by property run ").Append(runName).Append('\n')
            .Append("# ").Append(replayLine).Append('\n')
            .Append("# ").Append(finding.Kind).Append(' ').Append(finding.Invariant).Append(" at step ").Append(finding.Step).Append(": ")
            .Append(finding.Message.Replace('\n', ' ')).Append('\n')
            .Append(scenarioText).ToString();
        string hash = Convert.ToHexString(SHA1.HashData(Encoding.UTF8.GetBytes(scenarioText)))[..12].ToLowerInvariant();
        string name = $"{Sanitize(runName)}-{hash}.scn";
        foreach (var dir in new[] { directory ?? DefaultDirectory(), FallbackDirectory() })
        {
            if (dir is null) continue;
            try
            {
                Directory.CreateDirectory(dir);
                string path = Path.Combine(dir, name);
                string temp = path + ".tmp";
                File.WriteAllText(temp, text);
                File.Move(temp, path, overwrite: true);
                return path;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // read-only tree: try the next folder
            }
        }
        return "(not written: no writable folder)";
    }

    private static string Sanitize(string name) =>
        new(name.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '.' ? ch : '-').ToArray());
}
