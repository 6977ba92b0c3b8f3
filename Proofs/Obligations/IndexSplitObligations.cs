using DmaVerify.Proofs.Z3;
using static DmaVerify.Proofs.Obligations.SpecMath;

namespace DmaVerify.Proofs.Obligations;

/// <summary>
/// The level index split (INV-06, INV-14): for each format and level count, the per-level
/// indices fit their fields, the fields are disjoint, and together with the page offset they
/// give back every input-address bit exactly once. Kernels: the formats' LevelIndex/LevelShift.
/// </summary>
internal static class IndexSplitObligations
{
    private readonly record struct Field(BvTerm Index, BvTerm Shift, int Bits);

    /// <summary>The split covers [0, inputBits) exactly once: indices fit, fields are disjoint,
    /// and fields plus the low <paramref name="offsetBits"/> reassemble the address.</summary>
    private static BoolTerm CoversExactlyOnce(ObligationScope s, BvTerm iova, int offsetBits, int inputBits, IReadOnlyList<Field> fields)
    {
        var inputMask = s.Num(inputBits >= 64 ? ulong.MaxValue : (1UL << inputBits) - 1);
        var offsetMask = s.Num((1UL << offsetBits) - 1);
        var ok = s.Z3.True;
        var union = offsetMask;
        var rebuilt = iova & offsetMask;
        for (int i = 0; i < fields.Count; i++)
        {
            var f = fields[i];
            var fieldMask = s.Num((1UL << f.Bits) - 1).Shl(f.Shift);
            ok &= f.Index < 1UL << f.Bits;
            ok &= (union & fieldMask).IsZero; // disjoint from everything before it
            union |= fieldMask;
            rebuilt |= f.Index.Shl(f.Shift);
        }
        return ok & ((union & inputMask) == inputMask) & (rebuilt == (iova & inputMask));
    }

    private static BvTerm Index(BvTerm index32) => index32.ZeroExtend(32);

    public static IEnumerable<Obligation> All()
    {
        yield return new("PO-10", "INV-06", "VT-d: the 9-bit level indices of 3/4/5-level tables cover the 39/48/57 input bits exactly once",
            ["VtdSsPte.LevelIndex", "VtdSsPte.LevelShift", "VtdSsPte.InputBits"], s =>
            {
                var iova = s.Input("iova", 64);
                var all = s.Z3.True;
                foreach (int levels in new[] { 3, 4, 5 })
                {
                    int inputBits = (int)s.Bv("VtdSsPte.InputBits", s.Int(levels)).Numeral!.Value;
                    var fields = Enumerable.Range(0, levels).Select(l => new Field(
                        Index(s.Bv("VtdSsPte.LevelIndex", iova, s.Int(l))), s.Bv("VtdSsPte.LevelShift", s.Int(l)).ZeroExtend(32), 9)).ToList();
                    all &= CoversExactlyOnce(s, iova, 12, inputBits, fields);
                }
                return all;
            });

        yield return new("PO-11", "INV-06", "AMD v1: level indices of 3..6-level tables cover the input bits exactly once (6 levels: all 64)",
            ["AmdV1Pte.LevelIndex", "AmdV1Pte.LevelShift"], s =>
            {
                var iova = s.Input("iova", 64);
                var all = s.Z3.True;
                foreach (int levels in new[] { 3, 4, 5, 6 })
                {
                    var fields = Enumerable.Range(0, levels).Select(l => new Field(
                        Index(s.Bv("AmdV1Pte.LevelIndex", iova, s.Int(l))), s.Bv("AmdV1Pte.LevelShift", s.Int(l)).ZeroExtend(32),
                        Math.Min(9, 64 - (12 + 9 * l)))).ToList();
                    all &= CoversExactlyOnce(s, iova, 12, Math.Min(64, 12 + 9 * levels), fields);
                }
                return all;
            });

        yield return new("PO-12", "INV-06", "ARM LPAE: for each granule, stage and input size 32..48, the level indices (with stage-2 concatenation) cover the input bits exactly once",
            ["LpaePte.Levels", "LpaePte.TopIndexBits", "LpaePte.LevelIndex", "LpaePte.BlockShift"], s =>
            {
                var iova = s.Input("iova", 64);
                var all = s.Z3.True;
                foreach (int g in new[] { 12, 14, 16 })
                foreach (bool stage2 in new[] { false, true })
                foreach (int ias in new[] { 32, 36, 40, 42, 44, 48 })
                {
                    int Concrete(BvTerm t) => (int)(t.Numeral ?? throw new InvalidOperationException($"not known at lift time: {t}"));
                    var st2 = s.Z3.Bool(stage2);
                    int levels = Concrete(s.Bv("LpaePte.Levels", s.Int(ias), s.Int(g), st2));
                    int top = Concrete(s.Bv("LpaePte.TopIndexBits", s.Int(ias), s.Int(g), st2));
                    var fields = Enumerable.Range(4 - levels, levels).Select(lv =>
                    {
                        int bits = lv == 4 - levels ? top : g - 3;
                        return new Field(Index(s.Bv("LpaePte.LevelIndex", iova, s.Int(lv), s.Int(g), s.Int(bits))),
                            s.Bv("LpaePte.BlockShift", s.Int(lv), s.Int(g)).ZeroExtend(32), bits);
                    }).ToList();
                    all &= CoversExactlyOnce(s, iova, g, ias, fields);
                }
                return all;
            });

        yield return new("PO-13", "INV-06", "flat tables (GART, TCE): the slot index and page offset give back every address of the window exactly once",
            ["GartPte.LevelIndex", "TcePte.LevelIndex"], s =>
            {
                BvTerm iova = s.Input("iova", 64), gartBase = s.Input("apertureBase", 64), tceBase = s.Input("windowBase", 64);
                BvTerm shift = s.Input("tcePageShift", 32);
                // GART: a 32 MiB-aligned aperture below 4 GiB; TCE: a window of at most 2^31 pages.
                var inGart = Aligned(gartBase, 32UL << 20) & (iova >= gartBase) & (iova < 1UL << 32);
                var gart = Index(s.Bv("GartPte.LevelIndex", iova, gartBase));
                var gartOk = inGart.Implies(((gart << 12) + gartBase + (iova & 0xFFFUL) == iova) & (gart < 1UL << 20));
                s.Assume(OneOf(shift, 12, 16, 21, 24));
                var size = s.Num(1).Shl(shift.ZeroExtend(32));
                var inTce = Aligned(tceBase, size) & (iova >= tceBase) & (iova - tceBase < s.Num(1UL << 31).Shl(shift.ZeroExtend(32)));
                var tce = Index(s.Bv("TcePte.LevelIndex", iova, tceBase, shift));
                var tceOk = inTce.Implies((tce.Shl(shift.ZeroExtend(32)) + tceBase + (iova & (size - 1UL)) == iova) & (tce < 1UL << 31));
                return gartOk & tceOk;
            });
    }
}
