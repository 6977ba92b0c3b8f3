using DmaVerify.Proofs.Z3;
using static DmaVerify.Proofs.Obligations.SpecMath;

namespace DmaVerify.Proofs.Obligations;

/// <summary>
/// Scatter-gather layout (INV-09): boundary padding puts every entry inside one segment-boundary
/// unit, merging keeps merged segments inside a unit and within max_segment_size. Kernels:
/// Optimized/Dma/Kernels/SgRules.cs.
/// </summary>
internal static class SgObligations
{
    /// <summary>A segment-boundary mask has the form 2^k − 1 (all ones: no boundary).</summary>
    private static BoolTerm IsBoundaryMask(BvTerm mask) => (mask & (mask + 1UL)).IsZero;

    private static BoolTerm NoWrap(ObligationScope s, BvTerm start, BvTerm length) =>
        Wide(start) + Wide(length) <= Wide(s, ulong.MaxValue) + Wide(s, 1);

    public static IEnumerable<Obligation> All()
    {
        yield return new("PO-50", "INV-09", "sg padding: a padded entry never straddles a segment boundary; the pad is granule-aligned and below one unit",
            ["SgRules.PadBefore"], s =>
            {
                BvTerm index = s.Input("index", 32), mask = s.Input("boundaryMask", 64), iovaLen = s.Input("iovaLen", 64),
                       length = s.Input("length", 64), granule = s.Input("granule", 64);
                s.Assume(IsBoundaryMask(mask) & IsPowerOfTwo(granule) & (granule >= 2UL) & (mask >= granule - 1UL));
                s.Assume(Aligned(iovaLen, granule) & Aligned(length, granule) & (length >= 1UL) & (length - 1UL <= mask));
                s.Assume(index.Sge(s.Int(0)) & (index == 0UL).Implies(iovaLen.IsZero));
                var pad = s.Bv("SgRules.PadBefore", index, mask, iovaLen, length);
                var start = iovaLen + pad;
                s.Assume(NoWrap(s, iovaLen, pad) & NoWrap(s, start, length));
                return SameBoundaryUnit(start, start + (length - 1UL), mask) & Aligned(pad, granule) & (pad <= mask);
            });

        yield return new("PO-51", "INV-09", "sg merge: a joined segment stays inside one boundary unit and within max_segment_size",
            ["SgRules.JoinsSegment"], s =>
            {
                BvTerm curStart = s.Input("segmentStart", 64), curLen = s.Input("segmentLength", 64), offset = s.Input("offset", 64),
                       mask = s.Input("boundaryMask", 64), maxSeg = s.Input("maxSegment", 64), length = s.Input("length", 64);
                var dma = curStart + curLen; // the entry follows the open segment directly
                s.Assume(IsBoundaryMask(mask) & (curLen >= 1UL) & (curLen <= maxSeg) & (length >= 1UL));
                s.Assume(NoWrap(s, curStart, curLen) & NoWrap(s, dma, length));
                s.Assume(SameBoundaryUnit(curStart, dma - 1UL, mask) & SameBoundaryUnit(dma, dma + (length - 1UL), mask));
                var joins = s.Bool("SgRules.JoinsSegment", curLen, offset, dma, mask, maxSeg, length);
                return joins.Implies(SameBoundaryUnit(curStart, dma + (length - 1UL), mask) & (Wide(curLen) + Wide(length) <= Wide(maxSeg)));
            });

        yield return new("PO-52", "INV-09", "GART chunk merge: page-aligned join and chunk + entry <= max_segment_size, without overflow",
            ["SgRules.GartJoinsChunk"], s =>
            {
                BvTerm end = s.Input("previousEnd", 64), phys = s.Input("phys", 64), chunk = s.Input("chunkLength", 64),
                       length = s.Input("length", 64), maxSeg = s.Input("maxSegment", 64);
                var spec = Aligned(end, 4096) & Aligned(phys, 4096) & (Wide(chunk) + Wide(length) <= Wide(maxSeg));
                return s.Bool("SgRules.GartJoinsChunk", end, phys, chunk, length, maxSeg) == spec;
            });
    }
}
