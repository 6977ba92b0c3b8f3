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
