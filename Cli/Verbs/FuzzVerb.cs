using DmaVerify.Cli.Composition;
using DmaVerify.Cli.Files;
using DmaVerify.Fuzz.Afl;
using DmaVerify.Fuzz.Engine;
using DmaVerify.Fuzz.Instrumentation;
using DmaVerify.Fuzz.Mutation;
using DmaVerify.Fuzz.Targets;

namespace DmaVerify.Cli.Verbs;

/// <summary>`verify fuzz TARGET [CORPUS_DIR…] [-flag=value…]`: the in-process coverage-guided
/// engine with libFuzzer's flags and output (docs/fuzzing.md). Every path is checked before the
/// first input runs; SIGINT and SIGTERM stop it after the running input.</summary>
internal static class FuzzVerb
{
    public static int Run(string target, IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        if (!FuzzOptions.TryParse(args, out var options, out string problem))
        {
            error.WriteLine($"verify fuzz: {problem}");
            return ExitCodes.BadInput;
        }
        if (WhyNotUsable(target, options) is string bad)
        {
            error.WriteLine($"verify fuzz: {bad}");
            return ExitCodes.BadInput;
        }
        using var stop = StopRequest.Install(error);
        if (options.Jobs > 0)
        {
            var childArgs = args.Where(a => !a.StartsWith("-jobs=", StringComparison.Ordinal) && !a.StartsWith("-workers=", StringComparison.Ordinal));
            return JobLauncher.Run(SelfCommand.Current(), ["fuzz", target, .. childArgs], options, error, stop);
        }
        if (!TryCreateTarget(target, options, error, out var fuzzTarget, out problem))
        {
            error.WriteLine($"verify fuzz: {problem}");
            return ExitCodes.BadInput;
        }
        var dictionary = FuzzDictionary.ForTarget(target);

        if (options.MinimizeCrash) return CrashMinimizer.Run(fuzzTarget, options.Inputs[0], options, dictionary, error);
        if (options.Merge) return stop.SignalExitCode ?? CorpusMerger.Run(fuzzTarget, options.Inputs, error, options);
        if (options.Inputs.Count > 0 && options.Inputs.All(File.Exists))
            return InputRunner.Run(fuzzTarget, options.Inputs, options, error);

        var result = new FuzzEngine(fuzzTarget, options, dictionary, error, stop.Token).Run(options.Inputs);
        return result.ExitCode == 0 && stop.SignalExitCode is int signal ? signal : result.ExitCode;
    }

    /// <summary>Why the run cannot start, in one line naming the argument, or null. Checked
    /// before any input runs (and before -jobs starts a worker).</summary>
    private static string? WhyNotUsable(string target, FuzzOptions options)
    {
        if (!AssemblyTarget.IsAssemblyTarget(target) && !FuzzTargets.Names.Contains(target, StringComparer.Ordinal))
            return $"unknown target '{target}'; known: {string.Join(", ", FuzzTargets.Names)}, or PATH.dll:Namespace.Type.Method";
        if (options.Implementation is string impl && !Implementations.RegistryFor(impl).TryGet(impl, out _, out string why))
            return $"-impl={impl}: {why}";
        string artifactFolder = Path.GetDirectoryName(options.ArtifactPrefix + "x") is { Length: > 0 } d ? d : ".";
        if (OutputPaths.WhyNotWritableFolder(artifactFolder) is string badPrefix)
            return $"-artifact_prefix={options.ArtifactPrefix}: {artifactFolder}: {badPrefix}";
        var inputs = options.Inputs;
        if (options.Jobs > 0 && OutputPaths.WhyNotWritableFile("fuzz-0.log") is string noLogs)
            return $"-jobs={options.Jobs}: the job logs fuzz-<J>.log go to the working folder: {noLogs}";
        if (options.MinimizeCrash)
            return inputs.Count != 1 ? "-minimize_crash=1 needs exactly one crash file"
                : WhyNotReadableFile(inputs[0]) is string unreadable ? $"{inputs[0]}: {unreadable}" : null;
        if (options.Merge)
        {
            if (inputs.Count < 2) return "-merge=1 needs two or more corpus folders: OUTPUT INPUT...";
            if (OutputPaths.WhyNotWritableFolder(inputs[0]) is string badOutput) return $"-merge=1: output folder {inputs[0]}: {badOutput}";
            foreach (string folder in inputs.Skip(1))
                if (OutputPaths.WhyNotReadableFolder(folder) is string badInput) return $"-merge=1: input folder {folder}: {badInput}";
            return null;
        }
        if (inputs.Count > 0 && inputs.All(File.Exists))
            return inputs.Select(f => WhyNotReadableFile(f) is string w ? $"{f}: {w}" : null).FirstOrDefault(w => w is not null);
        if (inputs.Count > 0 && OutputPaths.WhyNotWritableFolder(inputs[0]) is string badCorpus)
            return $"corpus folder {inputs[0]}: {badCorpus}";
        foreach (string folder in inputs.Skip(1))
            if (OutputPaths.WhyNotReadableFolder(folder) is string badSeeds)
                return $"corpus folder {folder}: {badSeeds}" + (File.Exists(folder) ? " (give corpus folders, or only files to run each once)" : "");
        return null;
    }

    private static string? WhyNotReadableFile(string path)
    {
        try
        {
            using (File.OpenRead(path)) { }
            return null;
        }
        catch (Exception e) when (FileErrors.IsFileError(e) || e is ArgumentException)
        {
            return FileErrors.Describe(e);
        }
    }

    /// <summary>A named target (instrumented copies of the model and implementations) or any
    /// public static method of an assembly, as `fuzz-afl` takes it.</summary>
    private static bool TryCreateTarget(string target, FuzzOptions options, TextWriter log, out IFuzzTarget fuzzTarget, out string problem)
    {
        if (!AssemblyTarget.IsAssemblyTarget(target))
            return TargetProvider.TryCreate(target, options, Implementations.RegistryFor(options.Implementation), log, out fuzzTarget, out problem);
        fuzzTarget = null!;
        problem = "";
        try
        {
            var run = AssemblyTarget.Load(target, options.InstrumentCache ?? InstrumentedAssemblies.DefaultCacheDir, []);
            fuzzTarget = new AssemblyFuzzTarget(target, run);
            return true;
        }
        catch (Exception e) when (e is InstrumentationException or ArgumentException or IOException or BadImageFormatException)
        {
            problem = $"{target}: {e.Message}";
            return false;
        }
    }

    private sealed class AssemblyFuzzTarget(string name, FuzzAction run) : IFuzzTarget
    {
        public string Name => name;
        public void Run(ReadOnlySpan<byte> data) => run(data);
    }
}
