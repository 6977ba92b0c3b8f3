using DmaVerify.Proofs.Z3;

namespace DmaVerify.Proofs;

/// <summary>
/// A proof obligation: an id (PO-xx), the invariant it supports, the kernels it is about and
/// its specification as a body that states preconditions (<see cref="ObligationScope.Assume"/>)
/// and returns the property that must hold for every input.
/// </summary>
public sealed record Obligation(
    string Id,
    string Invariant,
    string Title,
    IReadOnlyList<string> Kernels,
    Func<ObligationScope, BoolTerm> Body)
{
    /// <summary>Z3 resource units a check may use (reproducible, unlike a timeout).</summary>
    public uint ResourceLimit { get; init; } = 50_000_000;

    public override string ToString() => $"{Id} ({Invariant}) {Title}";
}
