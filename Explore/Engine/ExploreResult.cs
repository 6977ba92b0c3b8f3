using DmaVerify.Contracts;
using DmaVerify.Harness;

namespace DmaVerify.Explore;

/// <summary>One depth of the search: the sequences of that length it ran, the states it found
/// first at that depth, and its time.</summary>
public sealed record LevelStats(int Depth, long Transitions, long NewStates, double Seconds);

/// <summary>
/// A shortest failing sequence: BFS found no failure in any shorter one (within the alphabet,
/// the scope and the deduplication). <see cref="Steps"/> are the ops with the implementation's
/// outcomes, the failing op last; <see cref="FailedAllocations"/> names the steps that ran with
/// the implementation's n-th internal allocation failing (step index → n).
/// </summary>
public sealed record ExploreFinding(Finding Finding, Scenario Scenario, IReadOnlyDictionary<int, int> FailedAllocations)
{
    public int Length => Scenario.Steps.Count;
}

/// <summary>Why a search ended.</summary>
public enum ExploreEnd
{
    /// <summary>Every sequence up to the requested depth ran without a finding.</summary>
    Depth,
    /// <summary>No new state appeared at some depth: every longer sequence only revisits states
    /// whose every op has run, so the bound is clean at any depth.</summary>
    Exhausted,
    Finding,
    MaxStates,
    TimeLimit,
    Cancelled,
    /// <summary>The tool could not go on (an implementation that answers the same op from the same
    /// state differently cannot have its states rebuilt); not a verdict.</summary>
    ToolError,
}

/// <summary>The outcome of exploring one preset.</summary>
public sealed record ExploreResult
{
    public required string Preset { get; init; }
    public required string Implementation { get; init; }
    public required ExploreOpKinds Ops { get; init; }
    public required int RequestedDepth { get; init; }
    public required int MaxLive { get; init; }
    /// <summary>Every sequence of at most this many ops ran clean.</summary>
    public required int CleanDepth { get; init; }
    public required ExploreEnd End { get; init; }
    public string? ToolError { get; init; }
    public required IReadOnlyList<LevelStats> Levels { get; init; }
    /// <summary>Ops run on both systems (one per explored transition).</summary>
    public required long States { get; init; }
    /// <summary>Distinct abstract states found (the starting state included).</summary>
    public required long Distinct { get; init; }
    public required double Seconds { get; init; }
    public required long PeakMemoryBytes { get; init; }
    /// <summary>Alphabet size in the starting state.</summary>
    public required int InitialChoices { get; init; }
    public required IReadOnlyList<IReadOnlyList<int>> SymmetricDevices { get; init; }
    public Shard? Shard { get; init; }
    public ExploreFinding? Finding { get; init; }

    public double StatesPerSecond => Seconds > 0 ? States / Seconds : 0;
    public bool Passed => Finding is null && End is not ExploreEnd.ToolError;

    /// <summary>64-bit hashes collide; with n distinct states the chance that two did is about
    /// n²/2^65 (what TLC reports as its optimistic fingerprint-collision estimate).</summary>
    public double CollisionProbability => Distinct * (double)Distinct / Math.Pow(2, 65);
}
