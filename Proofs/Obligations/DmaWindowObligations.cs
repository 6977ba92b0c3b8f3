using DmaVerify.Proofs.Z3;
using static DmaVerify.Proofs.Obligations.SpecMath;

namespace DmaVerify.Proofs.Obligations;

/// <summary>
/// dma_capable and the bypass predicates (INV-04, INV-05) against their specification, for all
/// 64-bit inputs, wrap-around included. Kernels: Optimized/Dma/Kernels/DmaWindow.cs.
/// </summary>
internal static class DmaWindowObligations
{
    /// <summary>Spec of dma_capable: [addr, addr + size) is non-empty, ends at or below 2^64 (no
    /// wrap), is not DMA_MAPPING_ERROR (all ones), and its last byte is ≤ min_not_zero(mask, limit).</summary>
    public static BoolTerm CapableSpec(ObligationScope s, BvTerm addr, BvTerm size, BvTerm mask, BvTerm busLimit)
    {
        var last = Wide(addr) + Wide(size) - Wide(s, 1);
        return !size.IsZero & (addr != ulong.MaxValue) & (Wide(addr) + Wide(size) <= Wide(s, ulong.MaxValue) + Wide(s, 1))
               & (last <= Wide(MinNotZero(mask, busLimit)));
    }

    public static IEnumerable<Obligation> All()
    {
        yield return new("PO-40", "INV-04", "dma_capable equals its specification for all 64-bit inputs (overflow included)",
            ["DmaWindow.IsCapable"], s =>
            {
                BvTerm addr = s.Input("addr", 64), size = s.Input("size", 64), mask = s.Input("mask", 64), limit = s.Input("busLimit", 64);
                return s.Bool("DmaWindow.IsCapable", addr, size, mask, limit) == CapableSpec(s, addr, size, mask, limit);
            });

        yield return new("PO-41", "INV-05", "min_not_zero is the smaller non-zero limit (0 = none)",
            ["DmaWindow.MinNotZero"], s =>
            {
                BvTerm a = s.Input("a", 64), b = s.Input("b", 64);
                var r = s.Bv("DmaWindow.MinNotZero", a, b);
                return (a.IsZero & b.IsZero).Implies(r.IsZero)
                       & (!a.IsZero | !b.IsZero).Implies(!r.IsZero & ((r == a) | (r == b))
                           & (a.IsZero | (r <= a)) & (b.IsZero | (r <= b)));
            });

        yield return new("PO-42", "INV-04", "GART aperture test: the buffer overlaps [start, last] iff they share a byte",
            ["DmaWindow.OverlapsAperture"], s =>
            {
                BvTerm phys = s.Input("phys", 64), length = s.Input("length", 64), start = s.Input("apertureStart", 64), last = s.Input("apertureLast", 64);
                BvTerm x = s.Input("x", 64); // a witness byte
                // Validated callers pass non-empty buffers that do not wrap.
                s.Assume(!length.IsZero & (Wide(phys) + Wide(length) <= Wide(s, ulong.MaxValue) + Wide(s, 1)));
                var overlaps = s.Bool("DmaWindow.OverlapsAperture", phys, length, start, last);
                var xInBuffer = (x >= phys) & (Wide(x) < Wide(phys) + Wide(length));
                var xInAperture = (x >= start) & (x <= last);
                var bufferLast = phys + (length - 1UL);
                var someShared = (start <= last) & (phys <= last) & (start <= bufferLast);
                // Both directions: a shared byte forces "overlaps"; "overlaps" means one exists (the nearer end).
                return (xInBuffer & xInAperture).Implies(overlaps) & (overlaps == someShared);
            });

        yield return new("PO-43", "INV-04", "DDW bypass: phys + offset does not wrap and the bus range is capable below the DDW limit",
            ["DmaWindow.InDdwWindow"], s =>
            {
                BvTerm phys = s.Input("phys", 64), length = s.Input("length", 64), offset = s.Input("ddwOffset", 64),
                       mask = s.Input("mask", 64), limit = s.Input("ddwLimit", 64);
                var bus = phys + offset;
                var spec = (Wide(phys) + Wide(offset) <= Wide(s, ulong.MaxValue)) & CapableSpec(s, bus, length, mask, limit);
                return s.Bool("DmaWindow.InDdwWindow", phys, length, offset, mask, limit) == spec;
            });
    }
}
