using System.Diagnostics;

namespace DmaVerify.Tests.Common;

/// <summary>
/// The C allocators of examples/c-iova (the correct one and its planted variants, and the
/// trace-pc-guard build), built once per test run with its Makefile into a folder under the
/// temp directory, plus any test-only C source compiled beside them. gcc and make come from
/// Debian's build-essential, clang-14 from clang-14 (.ci/run installs both).
/// </summary>
public static class CAllocators
{
    private static readonly Lazy<string> s_folder = new(Prepare);
    private static readonly Lock s_gate = new();

    public static string Root => Repo.Root;

    public static bool HaveGcc => Tool("gcc") is not null && Tool("make") is not null;
    public static bool HaveClang => Tool("clang-14") is not null;

    /// <summary>examples/c-iova/libmine.so, or libmine-VARIANT.so (limit, reserve, align, free, segv, hang).</summary>
    public static string Example(string? variant = null) => Make(variant is null ? "libmine.so" : $"libmine-{variant}.so");

    /// <summary>libmine.cov.so: the example compiled with trace-pc-guard and the coverage runtime.</summary>
    public static string Coverage() => Make("libmine.cov.so");

    /// <summary>A test-only library from C source (it may #include "iova_mine.c").</summary>
    public static string Compile(string name, string source)
    {
        string folder = s_folder.Value, so = Path.Combine(folder, $"lib{name}.so");
        lock (s_gate)
        {
            if (File.Exists(so)) return so;
            string c = Path.Combine(folder, name + ".c");
            File.WriteAllText(c, source);
            Run(folder, "gcc", "-shared", "-fPIC", "-O1", "-w", $"-I{Path.Combine(Root, "Native", "include")}", $"-I{folder}", c, "-o", so);
            return so;
        }
    }

    /// <summary>libpartial.so: the required symbols but dv_iova_free_fast and dv_iova_reserve.</summary>
    public static string WithoutFreeFastAndReserve() => Compile("partial", """
        #include <stdint.h>
        uint32_t dv_iova_abi_version(void) { return 1; }
        void *dv_iova_create(uint64_t s, uint32_t g) { (void)s; (void)g; return 0; }
        void dv_iova_destroy(void *p) { (void)p; }
        uint64_t dv_iova_alloc(void *p, uint64_t a, uint64_t b, int c) { (void)p; (void)a; (void)b; (void)c; return 0; }
        int dv_iova_free(void *p, uint64_t a) { (void)p; (void)a; return 0; }
        uint64_t dv_iova_alloc_fast(void *p, uint64_t a, uint64_t b, int c) { (void)p; (void)a; (void)b; (void)c; return 0; }
        """);

    private static string Make(string target)
    {
        string folder = s_folder.Value, so = Path.Combine(folder, target);
        lock (s_gate)
        {
            if (!File.Exists(so)) Run(folder, "make", "-s", $"DMAVERIFY={Root}", target);
            return so;
        }
    }

    private static string Prepare()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"dmaverify-c-iova-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        foreach (var file in new[] { "iova_mine.c", "Makefile" })
            File.Copy(Path.Combine(Root, "examples", "c-iova", file), Path.Combine(folder, file), overwrite: true);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return folder;
    }

    private static void Run(string folder, string tool, params string[] args)
    {
        var info = new ProcessStartInfo(tool) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed ({process.ExitCode}): {output}");
    }

    public static string? Tool(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);

}

/// <summary>A fact that needs gcc and make (Debian's build-essential) and says so when skipped.</summary>
public sealed class CFactAttribute : FactAttribute
{
    public CFactAttribute()
    {
        if (!CAllocators.HaveGcc) Skip = "gcc or make not found: install Debian's build-essential (.ci/run does) to build the example C allocators";
    }
}

/// <summary>A theory that needs gcc and make.</summary>
public sealed class CTheoryAttribute : TheoryAttribute
{
    public CTheoryAttribute()
    {
        if (!CAllocators.HaveGcc) Skip = "gcc or make not found: install Debian's build-essential (.ci/run does) to build the example C allocators";
    }
}

/// <summary>A fact that also needs clang-14 (the trace-pc-guard build).</summary>
public sealed class ClangFactAttribute : FactAttribute
{
    public ClangFactAttribute()
    {
        if (!CAllocators.HaveGcc || !CAllocators.HaveClang) Skip = "clang-14 (or gcc/make) not found: install Debian's clang-14 and build-essential (.ci/run does) for the coverage build";
    }
}
