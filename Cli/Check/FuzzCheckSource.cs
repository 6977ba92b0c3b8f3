using DmaVerify.Fuzz.Engine;
using DmaVerify.Fuzz.Mutation;
using DmaVerify.Fuzz.Targets;

namespace DmaVerify.Cli.Check;

/// <summary>
/// A short in-process fuzz run per target (every preset and "mixed"), from the target's seed
/// corpus under corpus/&lt;target&gt;/ (read only; new units go to the artifact folder). With the
/// real implementations the targets run on instrumented copies (coverage-guided); with a
/// planted implementation from the environment they run uninstrumented, guided by outcome
/// features alone, because a planted factory cannot cross into the instrumented load context.
/// </summary>
internal sealed class FuzzCheckSource : ICheckSource
{
    public string Engine => "fuzz";

    /// <summary>Inputs every fuzz item runs whatever its time budget: on a loaded machine a
    /// 2-second item once ran one input and passed. The item's own hard stop still bounds it.</summary>
    public const long MinimumInputs = 200;

    public IEnumerable<CheckItem> Items(CheckBudget budget, CheckEnvironment environment)
    {
        foreach (var target in FuzzTargets.Names)
            yield return new CheckItem("fuzz", target == FuzzTargets.Mixed ? "-" : target, $"fuzz/{target}", check => Run(target, check));
    }

    private static CheckOutcome Run(string name, CheckRun check)
    {
        var environment = check.Environment;
        string work = Path.Combine(environment.ArtifactDirectory, "fuzz", name);
        Directory.CreateDirectory(work);
        var options = new FuzzOptions
        {
            MaxTotalTime = check.Budget.FuzzSeconds,
            MinRuns = MinimumInputs,
            // The registry's default is what runs: the real one, or a planted bug (--plant).
            Implementation = environment.Implementations.Default.Name,
            Seed = (uint)Math.Max(1, check.Budget.Seed),
            ArtifactPrefix = work + Path.DirectorySeparatorChar,
            PrintFinalStats = false,
            NoInstrument = !environment.CanInstrument,
        };
        var log = new StatusWriter(check.Report);
        if (!TargetProvider.TryCreate(name, options, environment.Implementations, log, out var target, out string error))
            return new CheckOutcome(CheckStatus.Crashed, 0, "", error);

        var folders = new List<string> { work };
        if (environment.CorpusDirectory is { } corpus && Directory.Exists(Path.Combine(corpus, name)))
            folders.Add(Path.Combine(corpus, name));
        var result = new FuzzEngine(target, options, FuzzDictionary.ForTarget(name), log).Run(folders);
        var executed = new CheckWork(Execs: result.Runs);
        if (result.ExitCode == 0) return CheckOutcome.Pass(result.Runs, "execs") with { Work = executed };
        string problem = result.Crash?.Message ?? $"the engine exited {result.ExitCode}";
        string? replay = result.ArtifactPath is { } artifact
            ? $"verify replay {artifact} --target {name}" + (environment.ReplayOptions.Length > 0 ? environment.ReplayOptions
                : options.Implementation is { } impl && impl != Composition.Implementations.Registry.Default.Name ? $" --impl {impl}" : "")
            : null;
        return CheckOutcome.Fail(result.Runs, "execs", problem.ReplaceLineEndings(" "), replay) with
        {
            Work = executed, SecondsToFind = result.Seconds, ShrunkOps = FindingOps(problem),
        };
    }

    /// <summary>The ops of a finding's scenario, from its message ("…: step N: …" names the
    /// failing op, so the scenario is steps 0..N): the crash may come from another load
    /// context, where its type is not this one's.</summary>
    private static int? FindingOps(string message)
    {
        var match = System.Text.RegularExpressions.Regex.Match(message, @": step (\d+):");
        return match.Success && int.TryParse(match.Groups[1].Value, out int step) ? step + 1 : null;
    }

    /// <summary>Forwards the engine's status lines ("#N NEW cov: …") to the live status.</summary>
    private sealed class StatusWriter(Action<string> report) : TextWriter
    {
        private readonly System.Text.StringBuilder _line = new();
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void Write(char value)
        {
            if (value == '\n')
            {
                report(_line.ToString());
                _line.Clear();
            }
            else if (value != '\r') _line.Append(value);
        }
    }
}
