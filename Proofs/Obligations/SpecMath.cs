using DmaVerify.Proofs.Z3;

namespace DmaVerify.Proofs.Obligations;

/// <summary>Specification vocabulary: exact (non-wrapping) arithmetic and alignment, written
/// independently of the kernels so a spec never reuses the code it judges.</summary>
internal static class SpecMath
{
    /// <summary>A 64-bit value widened to 65 bits, where the sum of two such values cannot wrap.</summary>
    public static BvTerm Wide(BvTerm x) => x.ZeroExtend(65 - x.Width);

    public static BvTerm Wide(ObligationScope s, ulong value) => s.Num(value).ZeroExtend(1);

    /// <summary>min_not_zero(a, b) per the kernel's documentation: 0 means "no limit".</summary>
    public static BvTerm MinNotZero(BvTerm a, BvTerm b) =>
        a.IsZero.Ite(b, b.IsZero.Ite(a, (a < b).Ite(a, b)));

    public static BoolTerm IsPowerOfTwo(BvTerm x) => !x.IsZero & (x & (x - 1UL)).IsZero;

    /// <summary>x is a multiple of the power of two <paramref name="alignment"/>.</summary>
    public static BoolTerm Aligned(BvTerm x, BvTerm alignment) => (x & (alignment - 1UL)).IsZero;

    public static BoolTerm Aligned(BvTerm x, ulong alignment) => (x & (alignment - 1)).IsZero;

    /// <summary>The address bits of [start, last] stay inside one boundary unit of mask + 1 bytes.</summary>
    public static BoolTerm SameBoundaryUnit(BvTerm start, BvTerm last, BvTerm boundaryMask) =>
        (start & ~boundaryMask) == (last & ~boundaryMask);

    public static BoolTerm InRange(BvTerm x, ulong lo, ulong hi) => (x >= lo) & (x <= hi);

    /// <summary>An int32 input restricted to the given values.</summary>
    public static BoolTerm OneOf(BvTerm x, params int[] values) =>
        x.Context.Or(values.Select(v => x == unchecked((ulong)(uint)v)).ToArray());
}
