using DmaVerify.Cli.Composition;
using DmaVerify.Fuzz.Engine;
using DmaVerify.Fuzz.Mutation;

namespace DmaVerify.Cli.Verbs;

/// <summary>`verify fuzz TARGET [CORPUS_DIR…] [-flag=value…]`: the in-process coverage-guided
/// engine with libFuzzer's flags and output (docs/fuzzing.md).</summary>
internal static class FuzzVerb
{
    public static int Run(string target, IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        if (!FuzzOptions.TryParse(args, out var options, out string problem))
        {
            error.WriteLine($"verify fuzz: {problem}");
            return ExitCodes.BadInput;
        }
        if (options.Jobs > 0)
        {
            var childArgs = args.Where(a => !a.StartsWith("-jobs=", StringComparison.Ordinal) && !a.StartsWith("-workers=", StringComparison.Ordinal));
            return JobLauncher.Run(SelfCommand.Current(), ["fuzz", target, .. childArgs], options, error);
        }
        if (!TargetProvider.TryCreate(target, options, Implementations.Registry, error, out var fuzzTarget, out problem))
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
