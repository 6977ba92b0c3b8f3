using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Harness;

/// <summary>
/// An implementation that is incomplete on purpose, in a documented way, and can tell for its
/// last op whether a failure came from that incompleteness (LinuxStyle's max32_alloc_size
/// shortcut). A <see cref="RefinementSession"/> asked to accept known incompleteness counts
/// such divergences as <see cref="KnownDeviation"/>s instead of stopping; every other
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

/// <summary>A divergence the implementation attributed to its documented incompleteness: the
/// model said the allocation should have succeeded (INV-11) and the implementation said why it
/// could not.</summary>
public sealed record KnownDeviation(int Step, Op Op, string Reason, Divergence Divergence)
{
    public override string ToString() => $"step {Step}: {Reason}; {Divergence}";
}
