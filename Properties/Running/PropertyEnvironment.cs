using System.Globalization;

namespace DmaVerify.Properties;

/// <summary>The environment variables that steer property runs (the [Property] ergonomics).</summary>
public static class PropertyEnvironment
{
    /// <summary><c>DMAVERIFY_REPLAY="seed,gamma[,size]"</c>: run the one case a failure message named.</summary>
    public const string ReplayVariable = "DMAVERIFY_REPLAY";
    /// <summary><c>DMAVERIFY_MAXTEST=N</c>: multiply every run's number of cases by N (long runs).</summary>
    public const string MaxTestVariable = "DMAVERIFY_MAXTEST";
    /// <summary><c>DMAVERIFY_VERBOSE=1</c>: log every case (size, ops, finding) to the test output.</summary>
    public const string VerboseVariable = "DMAVERIFY_VERBOSE";
    /// <summary><c>DMAVERIFY_SEED=N</c>: start every run from seed N (mixed with the run's name);
    /// <c>DMAVERIFY_SEED=random</c>: from the clock. Unset: from the run's name alone, so a
    /// run draws the same cases on every machine and a failure in CI fails again on rerun.</summary>
    public const string SeedVariable = "DMAVERIFY_SEED";

    public static bool Verbose() => Environment.GetEnvironmentVariable(VerboseVariable) == "1";

    /// <summary>The replay seed from the environment, or null; a malformed value is an error
    /// naming the variable (never silently ignored).</summary>
    public static ReplaySeed? Replay()
    {
        string? text = Environment.GetEnvironmentVariable(ReplayVariable);
        if (string.IsNullOrWhiteSpace(text)) return null;
        return ReplaySeed.TryParse(text, out var replay, out string error)
            ? replay
            : throw new ArgumentException($"{ReplayVariable}: {error}");
    }

    /// <summary>The first seed of the run named <paramref name="runName"/>: null means a
    /// random start (DMAVERIFY_SEED=random); a malformed value is an error naming the variable.</summary>
    public static ulong? StartSeed(string runName, bool ignoreEnvironment)
    {
        string? text = ignoreEnvironment ? null : Environment.GetEnvironmentVariable(SeedVariable);
        if (string.IsNullOrWhiteSpace(text)) return SeedFor(runName, 0);
        if (text.Trim() == "random") return null;
        return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed)
            ? SeedFor(runName, seed)
            : throw new ArgumentException($"{SeedVariable}: '{text}' is not a whole number or 'random'");
    }

    /// <summary>FNV-1a of the name, mixed with <paramref name="salt"/> (stable across processes,
    /// unlike string.GetHashCode).</summary>
    public static ulong SeedFor(string name, ulong salt)
    {
        ulong hash = 0xCBF29CE484222325UL ^ salt;
        foreach (char c in name)
        {
            hash ^= c;
            hash *= 0x100000001B3UL;
        }
        return hash;
    }

    /// <summary>The test-count multiplier (1 when unset).</summary>
    public static int Multiplier()
    {
        string? text = Environment.GetEnvironmentVariable(MaxTestVariable);
        if (string.IsNullOrWhiteSpace(text)) return 1;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int m) && m >= 1
            ? m
            : throw new ArgumentException($"{MaxTestVariable}: '{text}' is not a positive whole number");
    }
}
