using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Harness;

/// <summary>A divergence the implementation attributed to its documented incompleteness: the
/// model said the allocation should have succeeded (INV-11) and the implementation said why it
/// could not.</summary>
public sealed record KnownDeviation(int Step, Op Op, string Reason, Divergence Divergence)
{
    public override string ToString() => $"step {Step}: {Reason}; {Divergence}";
}
