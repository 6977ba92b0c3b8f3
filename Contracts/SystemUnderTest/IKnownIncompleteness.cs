namespace DmaVerify.Contracts;

/// <summary>
/// An implementation that is incomplete on purpose, in a documented way, and can tell for its
/// last op whether a failure came from that incompleteness (LinuxStyle's max32_alloc_size
/// shortcut). A refinement run asked to accept known incompleteness counts
/// such divergences as known deviations instead of stopping; every other
/// divergence still fails the run.
/// </summary>
public interface IKnownIncompleteness
{
    /// <summary>Why the last op's OutOfIova failure is the documented incompleteness, or null
    /// when it is not (then a divergence is a real finding).</summary>
    string? KnownIncompletenessOfLastOp { get; }

    /// <summary>The implementation's own counters of its incompleteness, for the run's report.</summary>
    string KnownIncompletenessSummary { get; }
}
