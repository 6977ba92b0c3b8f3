using DmaVerify.Conformance;
using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;

namespace DmaVerify.Cli.Check;

/// <summary>How much work `verify check` does: <c>--quick</c> (about a minute), the default
/// (about 5 minutes on 2 cores) or <c>--long</c> (overnight, resumable). Sources scale their
/// counts by <see cref="Scale"/>; property runs get <see cref="PropertyOps"/> ops within
/// <see cref="PropertyTime"/> each (<see cref="PropertyBudget"/>); fuzz targets run
/// <see cref="FuzzSeconds"/> each; an item is stopped well past <see cref="PerItem"/>.</summary>
public sealed record CheckBudget(CheckLevel Level, double Scale, TimeSpan PerItem, int Seed, long PropertyOps, TimeSpan PropertyTime, int FuzzSeconds)
{
    public static CheckBudget For(CheckLevel level, int seed) => level switch
    {
        CheckLevel.Quick => new(level, 0.1, TimeSpan.FromSeconds(3), seed, PropertyOps: 5_000, PropertyTime: TimeSpan.FromSeconds(0.6), FuzzSeconds: 2),
        CheckLevel.Long => new(level, 10, TimeSpan.FromMinutes(30), seed, PropertyOps: 20_000_000, PropertyTime: TimeSpan.FromMinutes(5), FuzzSeconds: 20 * 60),
        _ => new(level, 1, TimeSpan.FromSeconds(15), seed, PropertyOps: 200_000, PropertyTime: TimeSpan.FromSeconds(2.5), FuzzSeconds: 10),
    };

    /// <summary><paramref name="count"/> scaled by the level, at least 1.</summary>
    public int Scaled(int count) => Math.Max(1, (int)Math.Round(count * Scale));

    /// <summary>A property run's budget: its default cases scaled, then the level's ops and time.</summary>
    public Properties.PropertyBudget PropertiesFor(int defaultCases) => new(Scaled(defaultCases), PropertyOps, PropertyTime);
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
public sealed record CheckItem(string Engine, string Target, string Name, Func<CheckRun, CheckOutcome> Run)
{
    /// <summary>False for items that never run an implementation (the model's own corpus replay
    /// and invariant runs, the proofs of the kernels' IL): a planted bug cannot show in them.</summary>
    public bool ChecksImplementation { get; init; } = true;
}

/// <summary>What an item gets when it runs: the budget, the context, a token that asks it to
/// stop early, and <see cref="Report"/> for a short live status ("1200 seqs, 340/s").</summary>
public sealed record CheckRun(CheckBudget Budget, CheckEnvironment Environment, CancellationToken Cancel, Action<string> Report);

/// <summary>How an item ended. <see cref="Count"/> is in <see cref="Unit"/> (ops, sequences,
/// execs, obligations). A failing item names the problem and the one-line command that replays
/// it; a skipped item says why (e.g. libz3 missing).</summary>
public sealed record CheckOutcome(CheckStatus Status, long Count, string Unit, string? Problem = null, string? ReplayCommand = null)
{
    /// <summary>What the item ran (cases, ops, execs), for the report.</summary>
    public CheckWork Work { get; init; } = CheckWork.None;

    /// <summary>A failure: the ops of the smallest failing case the engine reduced it to.</summary>
    public int? ShrunkOps { get; init; }

    /// <summary>A failure: seconds from the item's start to the finding (before any shrinking).</summary>
    public double? SecondsToFind { get; init; }

    public static CheckOutcome Pass(long count, string unit) => new(CheckStatus.Passed, count, unit);
    public static CheckOutcome Fail(long count, string unit, string problem, string? replay) => new(CheckStatus.Failed, count, unit, problem, replay);
    public static CheckOutcome Skip(string why) => new(CheckStatus.Skipped, 0, "", why);
}

public enum CheckStatus { Passed, Failed, Skipped, Crashed }

/// <summary>How much an item ran: generated cases, ops executed, fuzz inputs executed.</summary>
public sealed record CheckWork(long Cases = 0, long Ops = 0, long Execs = 0)
{
    public static readonly CheckWork None = new();

    public static CheckWork operator +(CheckWork a, CheckWork b) => new(a.Cases + b.Cases, a.Ops + b.Ops, a.Execs + b.Execs);

    /// <summary>"40 cases, 2.4k ops" / "1.2k execs" / "96 ops" (what is non-zero).</summary>
    public override string ToString()
    {
        var parts = new List<string>(3);
        if (Cases > 0) parts.Add($"{Short(Cases)} cases");
        if (Ops > 0) parts.Add($"{Short(Ops)} ops");
        if (Execs > 0) parts.Add($"{Short(Execs)} execs");
        return string.Join(", ", parts);
    }

    public static string Short(long n) => n switch
    {
        >= 10_000_000 => $"{n / 1_000_000}M",
        >= 1_000_000 => (n / 1e6).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture) + "M",
        >= 10_000 => $"{n / 1000}k",
        >= 1_000 => (n / 1e3).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture) + "k",
        _ => n.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>An item with its outcome and the wall time it took.</summary>
public sealed record CheckResult(CheckItem Item, CheckOutcome Outcome, TimeSpan Elapsed);

/// <summary>A provider of check items: one per engine (corpus replay, properties, fuzzing,
/// proofs).</summary>
public interface ICheckSource
{
    string Engine { get; }
    IEnumerable<CheckItem> Items(CheckBudget budget, CheckEnvironment context);
}
