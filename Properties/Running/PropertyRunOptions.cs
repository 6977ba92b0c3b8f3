namespace DmaVerify.Properties;

/// <summary>How one run is executed: budget, replay, where output and regression files go.</summary>
public sealed record PropertyRunOptions
{
    /// <summary>Cases to run; null: the run's default budget × <see cref="PropertyEnvironment.Multiplier"/>.</summary>
    public int? Budget { get; init; }
    /// <summary>Run the one case this seed names; null: <see cref="PropertyEnvironment.Replay"/>.</summary>
    public ReplaySeed? Replay { get; init; }
    /// <summary>Ignore DMAVERIFY_REPLAY (runs that must not be steered by it, such as the
    /// planted-bug tests comparing two runs).</summary>
    public bool IgnoreEnvironment { get; init; }
    /// <summary>Where progress goes (the xunit test log, the console); null: nowhere.</summary>
    public Action<string>? Log { get; init; }
    /// <summary>Log every case (size and op count) as it runs.</summary>
    public bool Verbose { get; init; }
    /// <summary>Folder for regression files; null: corpus/regressions/ of this checkout (a temp
    /// folder when that is read-only).</summary>
    public string? RegressionDirectory { get; init; }
    /// <summary>Write a regression file for a failure.</summary>
    public bool WriteRegression { get; init; } = true;
    /// <summary>Upper bound on property evaluations the shrinker may spend.</summary>
    public int MaxShrinkRuns { get; init; } = 3000;

    public int ResolveBudget(int defaultBudget) =>
        Budget ?? defaultBudget * (IgnoreEnvironment ? 1 : PropertyEnvironment.Multiplier());

    public bool ResolveVerbose() => Verbose || (!IgnoreEnvironment && PropertyEnvironment.Verbose());

    /// <summary>The first seed of a run that replays nothing; null: <see cref="PropertyEnvironment.StartSeed"/>.</summary>
    public ulong? StartSeed { get; init; }

    /// <summary>Where a run named <paramref name="name"/> starts: the replay seed if one is
    /// given, else a fixed start (null only for DMAVERIFY_SEED=random).</summary>
    public ReplaySeed? ResolveStart(string name) =>
        ResolveReplay() ?? ((StartSeed ?? PropertyEnvironment.StartSeed(name, IgnoreEnvironment)) is ulong seed
            ? new ReplaySeed(seed, FixedGamma, null)
            : null);

    /// <summary>SplitMix's golden gamma (odd, as FsCheck's Rnd needs).</summary>
    private const ulong FixedGamma = 0x9E3779B97F4A7C15UL;

    public ReplaySeed? ResolveReplay() => Replay ?? (IgnoreEnvironment ? null : PropertyEnvironment.Replay());
}
