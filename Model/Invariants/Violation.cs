using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>An invariant violation as data: the stable id (INV-xx), the device and range it
/// concerns when there is one, and an explanation for people.</summary>
public sealed record Violation(string Invariant, int? Device, AddrRange? Range, string Explanation)
{
    public override string ToString() =>
        $"{Invariant}" + (Device is int d ? $" dev={d}" : "") + (Range is AddrRange r ? $" {r}" : "") + $": {Explanation}";
}
