using DmaVerify.Cli.Composition;
using System.Diagnostics;
using System.Reflection;
using DmaVerify.Fuzz.Afl;
using DmaVerify.Fuzz.Instrumentation;

namespace DmaVerify.Cli.Verbs;

/// <summary>`verify fuzz-afl TARGET [INPUT]`, TARGET a named fuzz target (x86-vtd, ..., mixed) or
/// PATH.dll:Namespace.Type.Method: the AFL++ side of fuzzing (see
/// <see cref="AflAdapter"/>): under afl-fuzz a fork server, alone a one-shot run that reproduces
/// a crash file.</summary>
internal static class FuzzAflVerb
{
    public static int Run(string target, string? input, IReadOnlyList<string> instrument, string? cache, TextWriter output, TextWriter error)
    {
        string cacheDir = cache ?? InstrumentedAssemblies.DefaultCacheDir;
        FuzzAction Load() => AssemblyTarget.IsAssemblyTarget(target)
            ? AssemblyTarget.Load(target, cacheDir, instrument)
            : InstrumentedFuzzTargets.Load(target, cacheDir, Implementations.Registry);
        try
        {
            return AflAdapter.Run(Load, SameCommand(), input, output, error);
        }
        catch (Exception e) when (e is InstrumentationException or ArgumentException or IOException)
        {
            error.WriteLine($"verify fuzz-afl: {e.Message}");
            return ExitCodes.BadInput;
        }
    }

    /// <summary>This process's command line again (`dotnet verify.dll ARGS` or `verify ARGS`).</summary>
    private static ProcessStartInfo SameCommand()
    {
        string host = Environment.ProcessPath ?? "dotnet";
        string[] commandLine = Environment.GetCommandLineArgs(); // [entry, args...]
        var info = new ProcessStartInfo(host) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
            info.ArgumentList.Add(Assembly.GetEntryAssembly()?.Location is { Length: > 0 } entry ? entry : commandLine[0]);
        foreach (var arg in commandLine.Skip(1)) info.ArgumentList.Add(arg);
        return info;
    }
}
