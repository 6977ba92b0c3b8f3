using DmaVerify.Contracts;
using DmaVerify.Harness;

namespace DmaVerify.Properties;

/// <summary>
/// The result of one named run: passed or not, how many cases ran and how long it took, and on
/// failure the finding of the shrunk case, the replay line, the shrunk case in the scenario text
/// form and the regression file written for it.
/// </summary>
public sealed record PropertyResult
{
    public required string Name { get; init; }
    public required bool Passed { get; init; }
    public required int TestsRun { get; init; }
    public required double Seconds { get; init; }
    /// <summary>Ops executed over all cases (not counting shrinking).</summary>
    public long OpsRun { get; init; }
    public Finding? Finding { get; init; }
    public ReplaySeed? Replay { get; init; }
    public string? ReplayLine => Replay is null ? null : $"{PropertyEnvironment.ReplayVariable}=\"{Replay}\"";
    /// <summary>The failing case as generated (text form) and its size in ops.</summary>
    public string? OriginalScenario { get; init; }
    public int OriginalOps { get; init; }
    public string? ShrunkScenario { get; init; }
    public int ShrunkOps { get; init; }
    public int ShrinkRuns { get; init; }
    public string? RegressionPath { get; init; }

    public double CasesPerSecond => Seconds > 0 ? TestsRun / Seconds : 0;

    /// <summary>The failure message: replay line, shrunk ops, violated invariant, regression file.</summary>
    public string Report()
    {
        if (Passed) return $"{Name}: passed {TestsRun} cases in {Seconds:F1} s ({CasesPerSecond:F1} cases/s)";
        return $"""
            {Name}: FAILED after {TestsRun} cases ({Seconds:F1} s)
            violated: {Finding?.Invariant} ({Finding?.Kind}) at step {Finding?.Step} of the shrunk case
              {Finding?.Message}
            replay: {ReplayLine}
            shrunk from {OriginalOps} to {ShrunkOps} ops ({ShrinkRuns} shrink runs):
            {ShrunkScenario?.TrimEnd()}
            regression file: {RegressionPath}
            """;
    }
}
