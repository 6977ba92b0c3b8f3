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

    public IEnumerable<CheckItem> Items(CheckBudget budget, CheckEnvironment environment)
    {
        foreach (var target in FuzzTargets.Names)
            yield return new CheckItem("fuzz", target == FuzzTargets.Mixed ? "-" : target, $"fuzz/{target}", check => Run(target, check));
    }

    private static int Seconds(CheckLevel level) => level switch
    {
        CheckLevel.Quick => 2,
        CheckLevel.Long => 120,
        _ => 10,
    };

    private static CheckOutcome Run(string name, CheckRun check)
    {
        var environment = check.Environment;
        string work = Path.Combine(environment.ArtifactDirectory, "fuzz", name);
        Directory.CreateDirectory(work);
        var options = new FuzzOptions
        {
            MaxTotalTime = Seconds(check.Budget.Level),
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
        if (result.ExitCode == 0) return CheckOutcome.Pass(result.Runs, "execs");
        string problem = result.Crash?.Message ?? $"the engine exited {result.ExitCode}";
        string? replay = result.ArtifactPath is { } artifact ? $"verify replay {artifact} --target {name}{environment.ReplayOptions}" : null;
        return CheckOutcome.Fail(result.Runs, "execs", problem.ReplaceLineEndings(" "), replay);
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
