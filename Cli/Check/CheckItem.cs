using DmaVerify.Conformance;
using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;

namespace DmaVerify.Cli.Check;

/// <summary>How much work `verify check` does: <c>--quick</c> (≤ 1 minute), the default
/// (≤ 5 minutes on 2 cores) or <c>--long</c>. Sources scale their counts by
/// <see cref="Scale"/> and stop an item at <see cref="PerItem"/>.</summary>
public sealed record CheckBudget(CheckLevel Level, double Scale, TimeSpan PerItem, int Seed)
{
    public static CheckBudget For(CheckLevel level, int seed) => level switch
    {
        CheckLevel.Quick => new(level, 0.1, TimeSpan.FromSeconds(3), seed),
        CheckLevel.Long => new(level, 10, TimeSpan.FromMinutes(10), seed),
        _ => new(level, 1, TimeSpan.FromSeconds(15), seed),
    };

    /// <summary><paramref name="count"/> scaled by the level, at least 1.</summary>
    public int Scaled(int count) => Math.Max(1, (int)Math.Round(count * Scale));
}

public enum CheckLevel { Quick, Default, Long }

/// <summary>What a check item sees of the world: the implementations (tests swap in a registry
/// with a bug-planted one), the corpus folder and where to write artifacts.</summary>
public sealed record CheckEnvironment(
    ImplementationRegistry Implementations,
    string? CorpusDirectory,
    string ArtifactDirectory)
{
    /// <summary>The allocators the conformance suite checks (the shipped ones, or the one given
    /// with --allocator).</summary>
    public IReadOnlyList<AllocatorSubject> Allocators { get; init; } = Composition.Implementations.Allocators;

    /// <summary>Appended to every replay command (" --allocator PATH" when one was given).</summary>
    public string ReplayOptions { get; init; } = "";

    /// <summary>False when the registry cannot be rebuilt beside instrumented copies (a test's
    /// own, with no provider type): fuzz items then run uninstrumented.</summary>
    public bool CanInstrument => Implementations.Provider is not null;
}

/// <summary>One unit of `verify check`: an engine's run on one target (a preset, or "-" for
/// items that are not about one preset, such as proof obligations).</summary>
public sealed record CheckItem(string Engine, string Target, string Name, Func<CheckRun, CheckOutcome> Run);

/// <summary>What an item gets when it runs: the budget, the context, a token that asks it to
/// stop early, and <see cref="Report"/> for a short live status ("1200 seqs, 340/s").</summary>
public sealed record CheckRun(CheckBudget Budget, CheckEnvironment Environment, CancellationToken Cancel, Action<string> Report);

/// <summary>How an item ended. <see cref="Count"/> is in <see cref="Unit"/> (ops, sequences,
/// execs, obligations). A failing item names the problem and the one-line command that replays
/// it; a skipped item says why (e.g. libz3 missing).</summary>
public sealed record CheckOutcome(CheckStatus Status, long Count, string Unit, string? Problem = null, string? ReplayCommand = null)
{
    public static CheckOutcome Pass(long count, string unit) => new(CheckStatus.Passed, count, unit);
    public static CheckOutcome Fail(long count, string unit, string problem, string? replay) => new(CheckStatus.Failed, count, unit, problem, replay);
    public static CheckOutcome Skip(string why) => new(CheckStatus.Skipped, 0, "", why);
}

public enum CheckStatus { Passed, Failed, Skipped, Crashed }

/// <summary>An item with its outcome and the wall time it took.</summary>
public sealed record CheckResult(CheckItem Item, CheckOutcome Outcome, TimeSpan Elapsed);

/// <summary>A provider of check items: one per engine (corpus replay, properties, fuzzing,
/// proofs).</summary>
public interface ICheckSource
{
    string Engine { get; }
    IEnumerable<CheckItem> Items(CheckBudget budget, CheckEnvironment context);
}
