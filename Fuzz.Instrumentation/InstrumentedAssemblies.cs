using System.Reflection;
using System.Security.Cryptography;

namespace DmaVerify.Fuzz.Instrumentation;

/// <summary>
/// Instrumented copies of assemblies, made on demand into a cache folder and loaded into one
/// <see cref="InstrumentedLoadContext"/>. A copy is keyed by the SHA-256 of the original file
/// and the instrumenter's version, so a rebuilt assembly or a changed instrumenter makes a new
/// copy and an unchanged one is reused. Copies are written to a temporary name and renamed, so
/// several fuzzing processes may share one cache folder.
/// </summary>
public sealed class InstrumentedAssemblies
{
    /// <summary>What <c>verify fuzz</c> instruments by default: the code under test and the
    /// model-vs-implementation harness that drives it.</summary>
    public static IReadOnlyList<string> Default { get; } = ["DmaVerify.Contracts", "DmaVerify.Model", "DmaVerify.Optimized", "DmaVerify.Harness"];

    /// <summary>The cache folder used when none is given: $DMAVERIFY_CACHE, else
    /// $XDG_CACHE_HOME/dmaverify/instrumented, else ~/.cache/dmaverify/instrumented.</summary>
    public static string DefaultCacheDir
    {
        get
        {
            if (Environment.GetEnvironmentVariable("DMAVERIFY_CACHE") is { Length: > 0 } explicitDir) return explicitDir;
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            string root = !string.IsNullOrEmpty(xdg) ? xdg
                : !string.IsNullOrEmpty(home) ? Path.Combine(home, ".cache")
                : Path.GetTempPath();
            return Path.Combine(root, "dmaverify", "instrumented");
        }
    }

    private InstrumentedAssemblies(InstrumentedLoadContext context, IReadOnlyList<InstrumentationResult> results)
    {
        Context = context;
        Results = results;
    }

    public InstrumentedLoadContext Context { get; }

    /// <summary>One result per instrumented assembly (Instrumented when made now, AlreadyInstrumented
    /// when served from the cache).</summary>
    public IReadOnlyList<InstrumentationResult> Results { get; }

    /// <summary>
    /// Instruments each of <paramref name="instrument"/> into <paramref name="cacheDir"/> (or takes
    /// the cached copy) and loads them, with <paramref name="loadPlain"/> loaded uninstrumented
    /// into the same context (typically the assembly holding the fuzz targets, so its references
    /// bind to the instrumented copies). Names are simple assembly names found beside the running
    /// application ("DmaVerify.Model") or paths to .dll files.
    /// Throws <see cref="InstrumentationException"/> naming the assembly when one is missing or refused.
    /// With <paramref name="compareHooks"/> the copies also hook 64-bit comparisons (a separate
    /// cache entry: edge-only copies stay as they were).
    /// </summary>
    public static InstrumentedAssemblies Load(
        string cacheDir,
        IEnumerable<string> instrument,
        IEnumerable<string>? loadPlain = null,
        bool collectible = false,
        bool compareHooks = false)
    {
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        var results = new List<InstrumentationResult>();
        foreach (var name in instrument)
        {
            string original = Locate(name);
            var result = Cached(cacheDir, original, compareHooks);
            results.Add(result);
            paths[SimpleName(original)] = result.OutputPath;
        }
        foreach (var name in loadPlain ?? [])
        {
            string original = Locate(name);
            paths.TryAdd(SimpleName(original), original);
        }

        var context = new InstrumentedLoadContext(paths, collectible);
        foreach (var (name, path) in paths)
        {
            try
            {
                context.LoadFromAssemblyName(new AssemblyName(name));
            }
            catch (Exception e) when (e is FileLoadException or BadImageFormatException or FileNotFoundException)
            {
                throw new InstrumentationException($"{path}: cannot be loaded ({e.Message})", e);
            }
        }
        return new InstrumentedAssemblies(context, results);
    }

    /// <summary>The assembly <paramref name="simpleName"/> as loaded in <see cref="Context"/>.</summary>
    public Assembly this[string simpleName] => Context.LoadFromAssemblyName(new AssemblyName(simpleName));

    /// <summary>The instrumented copy of <paramref name="originalPath"/> in
    /// <paramref name="cacheDir"/>, made now if it is not there yet.</summary>
    public static InstrumentationResult Cached(string cacheDir, string originalPath, bool compareHooks = false)
    {
        string key = CacheKey(originalPath) + (compareHooks ? "-cmp" : "");
        string name = Path.GetFileName(originalPath);
        string folder = Path.Combine(cacheDir, Path.GetFileNameWithoutExtension(name), key);
        string target = Path.Combine(folder, name);
        if (File.Exists(target))
            return new InstrumentationResult(InstrumentationStatus.AlreadyInstrumented, originalPath, target, InstrumentationResult.FromTheCache);

        // Instrument into a private folder, then rename into place (symbols are embedded), so a
        // copy that exists is complete.
        string scratch = Path.Combine(cacheDir, ".tmp", $"{Environment.ProcessId}-{Guid.NewGuid():N}");
        string scratchFile = Path.Combine(scratch, name);
        try
        {
            var result = AssemblyInstrumenter.Instrument(originalPath, scratchFile, compareHooks);
            if (!result.Succeeded)
                throw new InstrumentationException(result.ToString());
            Directory.CreateDirectory(folder);
            File.Move(scratchFile, target, overwrite: true);
            return result with { OutputPath = target };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InstrumentationException($"{originalPath}: cannot write the instrumented copy under {cacheDir} ({e.Message})", e);
        }
        finally
        {
            try { if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true); }
            catch (IOException) { /* a leftover scratch folder is harmless */ }
        }
    }

    private static string CacheKey(string path)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(File.ReadAllBytes(path));
        sha.AppendData(AssemblyInstrumenter.Version.ToByteArray());
        return Convert.ToHexStringLower(sha.GetHashAndReset())[..16];
    }

    private static string Locate(string nameOrPath)
    {
        string path = nameOrPath.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
            ? Path.GetFullPath(nameOrPath)
            : Path.Combine(AppContext.BaseDirectory, nameOrPath + ".dll");
        if (!File.Exists(path))
            throw new InstrumentationException($"{nameOrPath}: assembly not found (looked for {path})");
        return path;
    }

    private static string SimpleName(string path)
    {
        try
        {
            return AssemblyName.GetAssemblyName(path).Name ?? Path.GetFileNameWithoutExtension(path);
        }
        catch (Exception e) when (e is BadImageFormatException or FileLoadException)
        {
            throw new InstrumentationException($"{path}: not a .NET assembly ({e.Message})", e);
        }
    }
}
