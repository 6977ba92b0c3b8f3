namespace DmaVerify.Tests.Common;

/// <summary>The repository a test runs from (the folder above its bin/ that holds Verify.sln)
/// and the scenario files of its corpus: the one place tests find either.</summary>
public static class Repo
{
    private static readonly Lazy<string> s_root = new(FindRoot);

    public static string Root => s_root.Value;

    /// <summary>A path under the repository root.</summary>
    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>Every *.scn under corpus/, as paths relative to the root, in ordinal order.</summary>
    public static IReadOnlyList<string> CorpusFiles()
    {
        string corpus = PathOf("corpus");
        return Directory.EnumerateFiles(corpus, "*.scn", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(Root, file))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary><see cref="CorpusFiles"/> as theory data.</summary>
    public static TheoryData<string> CorpusTheoryData() => [.. CorpusFiles()];

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Verify.sln"))) return dir.FullName;
        throw new InvalidOperationException("Verify.sln not found above " + AppContext.BaseDirectory);
    }
}
