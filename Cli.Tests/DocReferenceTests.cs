using System.Text;
using System.Text.RegularExpressions;

namespace DmaVerify.Tests.Cli;

/// <summary>
/// Code and documents cite only what is in the repository: every docs section a
/// source file names, and every relative Markdown link of README.md and docs/, points at a file
/// and a heading that exist; nothing cites notes kept outside the repository.
/// </summary>
public sealed partial class DocReferenceTests
{
    private static readonly string Root = Repo.Root;

    /// <summary>Source and document files of the checkout (no build output, no examples' C).</summary>
    private static IEnumerable<string> Files(params string[] extensions) =>
        Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories)
            .Where(f => extensions.Contains(Path.GetExtension(f)))
            .Where(f => !Path.GetRelativePath(Root, f).Split(Path.DirectorySeparatorChar)
                .Any(part => part is "bin" or "obj" or ".git" or "artifacts" or "StrykerOutput"))
            .Order(StringComparer.Ordinal);

    /// <summary>GitHub's heading anchors: lower case, punctuation but '-' and '_' dropped,
    /// spaces to '-', a repeated heading numbered from -1.</summary>
    public static IReadOnlySet<string> Anchors(string markdownFile)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        bool inFence = false;
        foreach (string line in File.ReadLines(markdownFile))
        {
            if (line.StartsWith("```", StringComparison.Ordinal)) inFence = !inFence;
            if (inFence || !HeadingLine().IsMatch(line)) continue;
            var slug = new StringBuilder();
            foreach (char ch in HeadingLine().Match(line).Groups[1].Value.Trim().ToLowerInvariant())
                if (char.IsLetterOrDigit(ch) || ch is '-' or '_') slug.Append(ch);
                else if (ch == ' ') slug.Append('-');
            string anchor = slug.ToString();
            for (int n = 1; !anchors.Add(anchor); n++) anchor = $"{slug}-{n}";
        }
        return anchors;
    }

    [Fact]
    public void EveryDocsSectionASourceFileCitesExists()
    {
        var broken = new List<string>();
        foreach (string file in Files(".cs"))
            foreach (Match m in DocsCitation().Matches(File.ReadAllText(file)))
                if (Broken(Path.Combine(Root, "docs", m.Groups[1].Value), m.Groups[2].Value) is { } why)
                    broken.Add($"{Path.GetRelativePath(Root, file)}: {m.Value}: {why}");
        Assert.True(broken.Count == 0, string.Join("\n", broken));
    }

    [Fact]
    public void EveryRelativeMarkdownLinkResolves()
    {
        var broken = new List<string>();
        foreach (string doc in Files(".md").Where(f => Path.GetFileName(Path.GetDirectoryName(f)) == "docs" || Path.GetDirectoryName(f) == Root))
            foreach (Match m in MarkdownLink().Matches(File.ReadAllText(doc)))
            {
                string target = m.Groups[1].Value.Length == 0 ? doc : Path.Combine(Path.GetDirectoryName(doc)!, m.Groups[1].Value);
                if (Broken(target, m.Groups[2].Success ? m.Groups[2].Value : null) is { } why)
                    broken.Add($"{Path.GetRelativePath(Root, doc)}: {m.Value}: {why}");
            }
        Assert.True(broken.Count == 0, string.Join("\n", broken));
    }

    [Fact]
    public void NothingCitesNotesOutsideTheRepository()
    {
        string[] outside = ["§", "DESIGN.md", "reference notes", "shared/reference", "verification-anchors", "linux-dma-semantics"];
        var hits = new List<string>();
        foreach (string file in Files(".cs", ".md"))
        {
            string[] lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
                if (outside.FirstOrDefault(o => lines[i].Contains(o, StringComparison.Ordinal)) is { } o)
                    hits.Add($"{Path.GetRelativePath(Root, file)}:{i + 1}: cites '{o}'");
        }
        // This file names the strings it looks for.
        hits.RemoveAll(h => h.StartsWith(Path.Combine("Cli.Tests", nameof(DocReferenceTests)), StringComparison.Ordinal));
        Assert.True(hits.Count == 0, string.Join("\n", hits));
    }

    private static string? Broken(string markdownFile, string? anchor)
    {
        if (!File.Exists(markdownFile)) return "no such file";
        if (anchor is null || Anchors(markdownFile).Contains(anchor)) return null;
        return $"no heading '#{anchor}' in {Path.GetRelativePath(Root, markdownFile)}";
    }

    [GeneratedRegex(@"^#{1,6}\s+(.*)$")]
    private static partial Regex HeadingLine();

    /// <summary>A docs file and heading anchor named in a source file.</summary>
    [GeneratedRegex(@"docs/([A-Za-z0-9_-]+\.md)#([A-Za-z0-9_-]+)")]
    private static partial Regex DocsCitation();

    /// <summary>A relative Markdown link to a .md file or to an anchor of the same file.</summary>
    [GeneratedRegex(@"\]\((?!https?:)([A-Za-z0-9_./-]*?\.md|)(?:#([A-Za-z0-9_-]+))?\)")]
    private static partial Regex MarkdownLink();
}
