using System.Diagnostics;
using DmaVerify.Contracts;
using DmaVerify.Harness;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;

namespace DmaVerify.Properties;

/// <summary>
/// The [Property] ergonomics on a plain [Fact] (FsCheck.Xunit is not available): runs a
/// generator through FsCheck's <c>Check.One</c> with the budget, end size and replay seed,
/// logs to the test output, and on failure shrinks with the run's own shrinker (FsCheck's
/// built-in one would not keep handles valid), prints the shrunk case and writes a regression
/// file. FsCheck does generation and seeds; finding and shrinking belong to the engines.
/// </summary>
public sealed class PropertyCheck<TCase> where TCase : class
{
    public required string Name { get; init; }
    public required Gen<TCase> Generator { get; init; }
    public required Func<TCase, Finding?> Execute { get; init; }
    public required Func<TCase, Finding, int, (TCase Case, Finding Finding, int Runs)> Shrink { get; init; }
    public required Func<TCase, string> Print { get; init; }
    public required Func<TCase, int> CountOps { get; init; }
    public int EndSize { get; init; } = 100;

    public PropertyResult Run(int budget, PropertyRunOptions options)
    {
        var replay = options.ResolveStart(Name);
        bool verbose = options.ResolveVerbose();
        var clock = Stopwatch.StartNew();
        int tests = 0;
        long ops = 0;
        TCase? failing = null;
        Finding? finding = null;
        var property = Prop.ForAll(Arb.From(Generator), (TCase c) =>
        {
            tests++;
            ops += CountOps(c);
            var f = SafeExecute(c);
            if (verbose) options.Log?.Invoke($"  case {tests}: {CountOps(c)} ops{(f is null ? "" : $" -> {f.Signature}")}");
            if (f is null) return true;
            failing = c;
            finding = f;
            return false;
        });
        var runner = new CapturingRunner();
        var config = Config.Quick.WithMaxTest(Math.Max(1, budget)).WithEndSize(EndSize).WithRunner(runner).WithName(Name);
        if (replay is not null)
            config = config.WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(replay.Seed, replay.Gamma),
                replay.Size is int s ? FSharpOption<int>.Some(s) : FSharpOption<int>.None)));
        Check.One(config, property);
        double seconds = clock.Elapsed.TotalSeconds;

        if (failing is null || finding is null)
        {
            var passed = new PropertyResult { Name = Name, Passed = true, TestsRun = tests, Seconds = seconds, OpsRun = ops };
            options.Log?.Invoke(passed.Report());
            return passed;
        }

        var seed = runner.FailingSeed ?? replay;
        var (shrunk, shrunkFinding, runs) = Shrink(failing, finding, options.MaxShrinkRuns);
        string text = Print(shrunk);
        string replayLine = $"{PropertyEnvironment.ReplayVariable}=\"{seed}\"";
        string? path = options.WriteRegression ? RegressionWriter.Write(Name, text, shrunkFinding, replayLine, options.RegressionDirectory) : null;
        var result = new PropertyResult
        {
            Name = Name, Passed = false, TestsRun = tests, Seconds = seconds, OpsRun = ops,
            Finding = shrunkFinding, Replay = seed,
            OriginalScenario = Print(failing), OriginalOps = CountOps(failing),
            ShrunkScenario = text, ShrunkOps = CountOps(shrunk), ShrinkRuns = runs, RegressionPath = path,
        };
        options.Log?.Invoke(result.Report());
        return result;
    }

    private Finding? SafeExecute(TCase c)
    {
        try
        {
            return Execute(c);
        }
        catch (Exception e)
        {
            return Crashes.Of(FindingKind.ToolCrash, 0, "the property engine", e);
        }
    }

    /// <summary>Keeps FsCheck quiet and remembers the seed and size of the failing case.</summary>
    private sealed class CapturingRunner : IRunner
    {
        public ReplaySeed? FailingSeed { get; private set; }

        public void OnStartFixture(Type t) { }
        public void OnArguments(int ntest, FSharpList<object> args, FSharpFunc<int, FSharpFunc<FSharpList<object>, string>> every) { }
        public void OnShrink(FSharpList<object> args, FSharpFunc<FSharpList<object>, string> everyShrink) { }

        public void OnFinished(string name, TestResult result)
        {
            if (result is TestResult.Failed failed)
                FailingSeed = new ReplaySeed(failed.Item6.Seed, failed.Item6.Gamma, failed.Item7);
        }
    }
}
