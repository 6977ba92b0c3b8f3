using DmaVerify.Cli.Composition;
using DmaVerify.Cli.Files;
using DmaVerify.Fuzz.Afl;
using DmaVerify.Fuzz.Engine;
using DmaVerify.Fuzz.Instrumentation;
using DmaVerify.Fuzz.Mutation;
using DmaVerify.Fuzz.Targets;
using DmaVerify.FuzzRuntime;
using DmaVerify.Harness;

namespace DmaVerify.Cli.Verbs;

/// <summary>`verify fuzz TARGET [CORPUS_DIR…] [-flag=value…]`: the in-process coverage-guided
/// engine with libFuzzer's flags and output (docs/fuzzing.md). Every path is checked before the
/// first input runs; SIGINT and SIGTERM stop it after the running input.</summary>
internal static class FuzzVerb
{
    /// <param name="plugged">An allocator given with --allocator: the implementation fuzzed
    /// (its own edges count as coverage when it was compiled for it).</param>
    public static int Run(string target, IReadOnlyList<string> args, TextWriter output, TextWriter error, PluggedImplementation? plugged = null)
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
        if (options.Jobs > 0)
        {
            using var stopJobs = StopRequest.Install(error);
            var childArgs = args.Where(a => !a.StartsWith("-jobs=", StringComparison.Ordinal) && !a.StartsWith("-workers=", StringComparison.Ordinal));
            return JobLauncher.Run(SelfCommand.Current(), ["fuzz", target, .. childArgs, .. plugged?.CommandLine ?? []], options, error, stopJobs);
        }
        if (plugged is not null) options = options with { ReplaySuffix = " " + plugged.ReplayOptions };
        // A crash of another implementation than the default replays on that one.
        else if (options.Implementation is string impl && impl != Implementations.Registry.Default.Name) options = options with { ReplaySuffix = $" --impl {impl}" };
        ForeignEdges.Reset();
        int exit = Fuzz(target, options, plugged?.Registry ?? Implementations.Knowing(options.Implementation), error);
        if (plugged is not null && plugged.Allocator.Capabilities.CoverageEdges > 0)
        {
            var (edges, reached) = ForeignEdges.Snapshot();
            error.WriteLine($"INFO: allocator {plugged.Allocator.Name}: {reached} of {edges} instrumented edges reached");
        }
        return exit;
    }

    private static int Fuzz(string target, FuzzOptions options, ImplementationRegistry registry, TextWriter error)
    {
        if (!TryCreateTarget(target, options, registry, error, out var fuzzTarget, out string problem))
        {
            error.WriteLine($"verify fuzz: {problem}");
            return ExitCodes.BadInput;
        }
        var dictionary = FuzzDictionary.ForTarget(target);

        // These end by themselves and write atomically: Ctrl-C may end them at once.
        if (options.MinimizeCrash) return CrashMinimizer.Run(fuzzTarget, options.Inputs[0], options, dictionary, error);
        if (options.Merge) return CorpusMerger.Run(fuzzTarget, options.Inputs, error, options);
        if (options.Inputs.Count > 0 && options.Inputs.All(File.Exists))
            return InputRunner.Run(fuzzTarget, options.Inputs, options, error);

        using var stop = StopRequest.Install(error);
        var result = new FuzzEngine(fuzzTarget, options, dictionary, error, stop.Token).Run(options.Inputs);
        return result.ExitCode == 0 && stop.SignalExitCode is int signal ? signal : result.ExitCode;
    }

    /// <summary>Why the run cannot start, in one line naming the argument, or null. Checked
    /// before any input runs (and before -jobs starts a worker).</summary>
    private static string? WhyNotUsable(string target, FuzzOptions options)
    {
        if (!AssemblyTarget.IsAssemblyTarget(target) && !FuzzTargets.Names.Contains(target, StringComparer.Ordinal))
            return $"unknown target '{target}'; known: {string.Join(", ", FuzzTargets.Names)}, or PATH.dll:Namespace.Type.Method";
        if (options.Implementation is string impl && !Implementations.Knowing(impl).TryGet(impl, out _, out string why))
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

    /// <summary>Why a fuzz input cannot be read (tried: one byte), or is too large to be one.</summary>
    private static string? WhyNotReadableFile(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            if (stream.Length > FuzzOptions.MaxMaxLen) return $"too large for a fuzz input ({stream.Length} bytes; at most {FuzzOptions.MaxMaxLen})";
            stream.ReadByte();
            return null;
        }
        catch (Exception e) when (FileErrors.IsFileError(e) || e is ArgumentException)
        {
            return FileErrors.Describe(e);
        }
    }

    /// <summary>A named target (instrumented copies of the model and implementations) or any
    /// public static method of an assembly, as `fuzz-afl` takes it.</summary>
    private static bool TryCreateTarget(string target, FuzzOptions options, ImplementationRegistry registry, TextWriter log, out IFuzzTarget fuzzTarget, out string problem)
    {
        if (!AssemblyTarget.IsAssemblyTarget(target))
            return TargetProvider.TryCreate(target, options, registry, log, out fuzzTarget, out problem);
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
