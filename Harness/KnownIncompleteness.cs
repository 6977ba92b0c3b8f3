using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Harness;

/// <summary>
/// The one rule for when a failure is an implementation's documented incompleteness rather than
/// a finding (<see cref="IKnownIncompleteness"/>): a completeness violation (INV-11) of an op
/// that failed with OutOfIova, which the implementation itself attributes to a documented gap
/// (LinuxStyle's max32_alloc_size shortcut). Every engine that accepts such gaps asks here, so
/// the refinement check and the invariants on the implementation's own states agree.
/// </summary>
public static class KnownIncompleteness
{
    /// <summary>The implementation's reason when an <paramref name="invariant"/> broken by its
    /// last op (<paramref name="outcome"/>) is its documented incompleteness, else null.</summary>
    public static string? Explains(ISystemUnderTest implementation, string invariant, Outcome outcome) =>
        invariant == InvariantChecker.Inv11 && outcome is Failed { Kind: DmaErrorKind.OutOfIova } && implementation is IKnownIncompleteness known
            ? known.KnownIncompletenessOfLastOp
            : null;

    /// <summary>A step's violations less those the implementation's documented incompleteness
    /// explains (none are dropped unless <paramref name="accept"/>).</summary>
    public static List<Violation> Unexplained(IEnumerable<Violation> violations, ISystemUnderTest implementation, Outcome outcome, bool accept) =>
        accept ? [.. violations.Where(v => Explains(implementation, v.Invariant, outcome) is null)] : [.. violations];
}
