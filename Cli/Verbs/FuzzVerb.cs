using DmaVerify.Cli.Composition;
using DmaVerify.Fuzz.Engine;
using DmaVerify.Fuzz.Mutation;
using DmaVerify.FuzzRuntime;
using DmaVerify.Harness;

namespace DmaVerify.Cli.Verbs;

/// <summary>`verify fuzz TARGET [CORPUS_DIR…] [-flag=value…]`: the in-process coverage-guided
/// engine with libFuzzer's flags and output (docs/fuzzing.md).</summary>
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
        if (options.Jobs > 0)
        {
            var childArgs = args.Where(a => !a.StartsWith("-jobs=", StringComparison.Ordinal) && !a.StartsWith("-workers=", StringComparison.Ordinal));
            return JobLauncher.Run(SelfCommand.Current(), ["fuzz", target, .. childArgs, .. plugged?.CommandLine ?? []], options, error);
        }
        if (plugged is not null) options = options with { ReplaySuffix = " " + plugged.ReplayOptions };
        ForeignEdges.Reset();
        int exit = Fuzz(target, options, plugged?.Registry ?? Implementations.Registry, error);
        if (plugged is not null && plugged.Allocator.Capabilities.CoverageEdges > 0)
        {
            var (edges, reached) = ForeignEdges.Snapshot();
            error.WriteLine($"INFO: allocator {plugged.Allocator.Name}: {reached} of {edges} instrumented edges reached");
        }
        return exit;
    }

    private static int Fuzz(string target, FuzzOptions options, ImplementationRegistry registry, TextWriter error)
    {
        if (!TargetProvider.TryCreate(target, options, registry, error, out var fuzzTarget, out string problem))
        {
            error.WriteLine($"verify fuzz: {problem}");
            return ExitCodes.BadInput;
        }
        var dictionary = FuzzDictionary.ForTarget(target);

        if (options.MinimizeCrash)
        {
            if (options.Inputs.Count != 1 || !File.Exists(options.Inputs[0]))
            {
                error.WriteLine("verify fuzz: -minimize_crash=1 needs exactly one crash file");
                return ExitCodes.BadInput;
            }
            return CrashMinimizer.Run(fuzzTarget, options.Inputs[0], options, dictionary, error);
        }
        if (options.Merge) return CorpusMerger.Run(fuzzTarget, options.Inputs, error);

        var missing = options.Inputs.FirstOrDefault(p => !File.Exists(p) && !Directory.Exists(p) && p != options.Inputs[0]);
        if (missing is not null)
        {
            error.WriteLine($"verify fuzz: {missing}: no such file or folder");
            return ExitCodes.BadInput;
        }
        if (options.Inputs.Count > 0 && options.Inputs.All(File.Exists))
            return InputRunner.Run(fuzzTarget, options.Inputs, options, error);

        var result = new FuzzEngine(fuzzTarget, options, dictionary, error).Run(options.Inputs);
        return result.ExitCode;
    }
}
