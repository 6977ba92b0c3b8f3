namespace DmaVerify.Explore;

/// <summary>When the implementation's exported state is judged by the full invariant checker.</summary>
public enum ImplementationStateChecks
{
    /// <summary>Once per distinct state, when the search first reaches it (the default): every
    /// op is judged by refinement and the model's incremental checker; the implementation's own
    /// state is judged wherever it may differ.</summary>
    NewStates,
    /// <summary>After every op, also those that reach a state already seen, and the step rules
    /// on the states before and after each op (INV-15: a failed op changes nothing; misuse,
    /// stale access and completeness as the properties engine judges them). Slow: an export per op.</summary>
    EveryOp,
    /// <summary>Never: refinement and the model's checker only.</summary>
    None,
}

/// <summary>This run's part of a search split over <see cref="Count"/> machines: the frontier at
/// <see cref="AtDepth"/> is split by state hash, this run keeping the states whose hash modulo
/// <see cref="Count"/> is <see cref="Index"/>. Every part explores the depths up to it in full.</summary>
public sealed record Shard(int Index, int Count, int AtDepth)
{
    public const int DefaultDepth = 2;

    public bool Keeps(ulong hash) => (int)(hash % (ulong)Count) == Index;

    public override string ToString() => $"{Index}/{Count}";

    /// <summary>"i/n" with 0 ≤ i &lt; n.</summary>
    public static bool TryParse(string text, int atDepth, out Shard shard, out string error)
    {
        shard = null!;
        error = "";
        var parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int i) || !int.TryParse(parts[1], out int n) || n < 1 || i < 0 || i >= n)
        {
            error = $"'{text}' is not i/n with 0 <= i < n (e.g. 0/4)";
            return false;
        }
        shard = new Shard(i, n, atDepth);
        return true;
    }
}

/// <summary>What one exploration does.</summary>
public sealed record ExploreOptions
{
    public const int DefaultDepth = 6;
    public const int DefaultMaxLive = 3;
    public const long DefaultMaxStates = 5_000_000;

    /// <summary>The longest op sequences explored.</summary>
    public int Depth { get; init; } = DefaultDepth;
    public ExploreOpKinds Ops { get; init; } = ExploreOpKinds.Default;
    /// <summary>Stop (incomplete) once this many distinct states are known (memory bound).</summary>
    public long MaxStates { get; init; } = DefaultMaxStates;
    /// <summary>Scope: maps are offered only while fewer mappings are live.</summary>
    public int MaxLive { get; init; } = DefaultMaxLive;
    /// <summary>Deduplicate states by canonical hash (off: every sequence, an exponential tree).</summary>
    public bool Deduplicate { get; init; } = true;
    /// <summary>Count interchangeable devices' states as one (see <see cref="DeviceSymmetry"/>).</summary>
    public bool Symmetry { get; init; } = true;
    public ImplementationStateChecks ImplementationState { get; init; } = ImplementationStateChecks.NewStates;
    /// <summary>Threads that expand each depth's frontier, each with its own model and
    /// implementation (1: the search is deterministic down to which counterexample it reports).</summary>
    public int Workers { get; init; } = 1;
    public Shard? Shard { get; init; }
    /// <summary>Stop (incomplete) after this long.</summary>
    public TimeSpan? TimeLimit { get; init; }
    /// <summary>Called about once a second with the progress.</summary>
    public Action<ExploreStatus>? Status { get; init; }
    public CancellationToken Cancel { get; init; }
    /// <summary>Called with the hash of each distinct state when the search first reaches it
    /// (the tests compare the states of a search's shards with the whole search's).</summary>
    internal Action<ulong>? NewState { get; init; }
}

/// <summary>Progress of a running exploration (the status line).</summary>
public sealed record ExploreStatus(string Preset, int Depth, long Frontier, long States, long Distinct, double StatesPerSecond, long MemoryBytes, TimeSpan Elapsed);
