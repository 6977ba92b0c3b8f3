using DmaVerify.Proofs.Z3;
using static DmaVerify.Proofs.Obligations.SpecMath;

namespace DmaVerify.Proofs.Obligations;

/// <summary>
/// PTE encode/decode (INV-14, INV-06): for every format and page size, decoding an encoded leaf
/// gives back its address, size and permissions, the entry is canonical, and no bit outside the
/// format's defined fields (docs/linux-facts.md#page-table-formats) is set. Kernels:
/// Optimized/PageTables/Formats/*Pte.cs.
/// </summary>
internal static class PteObligations
{
    /// <summary>A size chosen by an int input from (value, log2 size) pairs; other values are excluded.</summary>
    private static BvTerm SizeFor(ObligationScope s, BvTerm selector, params (int Value, int Log2)[] table)
    {
        s.Assume(OneOf(selector, table.Select(t => t.Value).ToArray()));
        var size = s.Num(0);
        foreach (var (value, log2) in table) size = (selector == unchecked((ulong)(uint)value)).Ite(s.Num(1UL << log2), size);
        return size;
    }

    private static BoolTerm Below(BvTerm pa, int bits) => pa < 1UL << bits;

    public static IEnumerable<Obligation> All()
    {
        yield return new("PO-01", "INV-14", "VT-d second stage: 4K/2M/1G leaves round-trip, are canonical, no reserved bit",
            ["VtdSsPte.EncodeLeaf", "VtdSsPte.DecodeAddress", "VtdSsPte.IsLeaf", "VtdSsPte.IsCanonicalLeaf", "VtdSsPte.CanRead", "VtdSsPte.CanWrite"], s =>
            {
                BvTerm pa = s.Input("pa", 64), level = s.Input("level", 32);
                BoolTerm r = s.Flag("read"), w = s.Flag("write");
                var size = SizeFor(s, level, (0, 12), (1, 21), (2, 30));
                s.Assume(Below(pa, 52) & Aligned(pa, size) & (r | w));
                var pte = s.Bv("VtdSsPte.EncodeLeaf", pa, level, r, w);
                // Defined leaf bits: R 0, W 1, PS 7 (superpages only), address 51:12.
                var allowed = s.Num(0x000F_FFFF_FFFF_F003UL) | (level == 0UL).Ite(s.Num(0), s.Num(0x80));
                return (s.Bv("VtdSsPte.DecodeAddress", pte) == pa) & !pte.IsZero & s.Bool("VtdSsPte.IsLeaf", pte, level)
                       & (s.Bool("VtdSsPte.CanRead", pte) == r) & (s.Bool("VtdSsPte.CanWrite", pte) == w)
                       & s.Bool("VtdSsPte.IsCanonicalLeaf", pte, level) & (pte & ~allowed).IsZero;
            });

        yield return new("PO-02", "INV-14", "VT-d second stage: table entries round-trip and never read as leaves",
            ["VtdSsPte.EncodeTable", "VtdSsPte.DecodeAddress", "VtdSsPte.IsLeaf"], s =>
            {
                BvTerm pa = s.Input("tablePa", 64), level = s.Input("level", 32);
                s.Assume(Below(pa, 52) & Aligned(pa, 4096) & InRange(level, 1, 4));
                var pte = s.Bv("VtdSsPte.EncodeTable", pa);
                return (s.Bv("VtdSsPte.DecodeAddress", pte) == pa) & !pte.IsZero & !s.Bool("VtdSsPte.IsLeaf", pte, level)
                       & (pte & ~0x000F_FFFF_FFFF_F003UL).IsZero;
            });

        yield return new("PO-03", "INV-14", "AMD v1: every supported power-of-two leaf (Next Level 0 or 7) round-trips size, address and permissions",
            ["AmdV1Pte.LeafLevel", "AmdV1Pte.EncodeLeaf", "AmdV1Pte.DecodeLeafAddress", "AmdV1Pte.DecodeLeafSizeLog2", "AmdV1Pte.NextLevel", "AmdV1Pte.IsCanonicalLeaf"], s =>
            {
                BvTerm pa = s.Input("pa", 64), sizeLog2 = s.Input("sizeLog2", 32);
                BoolTerm r = s.Flag("read"), w = s.Flag("write");
                s.Assume(InRange(sizeLog2, 12, 51) & (sizeLog2 != 39UL) & Below(pa, 52) & (r | w));
                s.Assume(Aligned(pa, s.Num(1).Shl(sizeLog2.ZeroExtend(32))));
                var level = s.Bv("AmdV1Pte.LeafLevel", sizeLog2);
                var pte = s.Bv("AmdV1Pte.EncodeLeaf", pa, sizeLog2, r, w);
                // Natural sizes of AMD levels: 4K, 2M, 1G, 256T (512G is excluded as broken).
                var natural = OneOf(sizeLog2, 12, 21, 30, 48);
                var nl = s.Bv("AmdV1Pte.NextLevel", pte);
                var levelShift = level * 9UL + 12UL;
                // Defined bits: PR 0, Next Level 11:9, OA 51:12, IR 61, IW 62.
                return level.Sge(s.Int(0)) & (levelShift <= sizeLog2) & (sizeLog2 < levelShift + 9UL)
                       & (s.Bv("AmdV1Pte.DecodeLeafAddress", pte, level) == pa)
                       & (s.Bv("AmdV1Pte.DecodeLeafSizeLog2", pte, level) == sizeLog2)
                       & (nl == natural.Ite(s.Int(0), s.Int(7)))
                       & (!(pte & (1UL << 61)).IsZero == r) & (!(pte & (1UL << 62)).IsZero == w)
                       & s.Bool("AmdV1Pte.IsCanonicalLeaf", pte, level)
                       & (pte & ~0x600F_FFFF_FFFF_FE01UL).IsZero;
            });

        yield return new("PO-04", "INV-14", "AMD v1: table entries carry the child level and address and never read as leaves",
            ["AmdV1Pte.EncodeTable", "AmdV1Pte.NextLevel", "AmdV1Pte.IsLeaf", "AmdV1Pte.DecodeTableAddress"], s =>
            {
                BvTerm pa = s.Input("tablePa", 64), level = s.Input("level", 32);
                s.Assume(Below(pa, 52) & Aligned(pa, 4096) & InRange(level, 1, 5));
                var pte = s.Bv("AmdV1Pte.EncodeTable", pa, level);
                return (s.Bv("AmdV1Pte.NextLevel", pte) == level) & !s.Bool("AmdV1Pte.IsLeaf", pte)
                       & (s.Bv("AmdV1Pte.DecodeTableAddress", pte) == pa) & !(pte & 1UL).IsZero;
            });

        foreach (var (id, granuleShift, paBits) in new[] { ("PO-05", 12, 48), ("PO-06", 14, 48), ("PO-07", 16, 52) })
            yield return Lpae(id, granuleShift, paBits);

        yield return new("PO-08", "INV-14", "K8 GART: 40-bit page addresses round-trip through the 32-bit GATT entry; bits 3:2 stay clear",
            ["GartPte.Encode", "GartPte.Decode", "GartPte.IsCanonical", "GartPte.IsValid"], s =>
            {
                BvTerm pa = s.Input("pa", 64);
                s.Assume(Below(pa, 40) & Aligned(pa, 4096));
                var pte = s.Bv("GartPte.Encode", pa);
                return (s.Bv("GartPte.Decode", pte) == pa) & s.Bool("GartPte.IsCanonical", pte) & s.Bool("GartPte.IsValid", pte)
                       & (pte & 0xCUL).IsZero;
            });

        yield return new("PO-09", "INV-14", "PowerPC TCE: 4K/64K/2M/16M pages round-trip the real page number and permissions",
            ["TcePte.Encode", "TcePte.DecodeAddress", "TcePte.IsValid", "TcePte.IsCanonical", "TcePte.CanRead", "TcePte.CanWrite"], s =>
            {
                BvTerm pa = s.Input("pa", 64), shift = s.Input("pageShift", 32);
                BoolTerm r = s.Flag("read"), w = s.Flag("write");
                var size = SizeFor(s, shift, (12, 12), (16, 16), (21, 21), (24, 24));
                s.Assume(Below(pa, 52) & Aligned(pa, size));
                var pte = s.Bv("TcePte.Encode", pa, shift, r, w);
                var addressBits = s.Num((1UL << 52) - 1) & ~(size - 1UL);
                return (s.Bv("TcePte.DecodeAddress", pte, shift) == pa) & (s.Bool("TcePte.IsValid", pte) == (r | w))
                       & (s.Bool("TcePte.CanRead", pte) == r) & (s.Bool("TcePte.CanWrite", pte) == w)
                       & (r | w).Implies(s.Bool("TcePte.IsCanonical", pte, shift)) & (pte & ~(addressBits | 3UL)).IsZero;
            });
    }

    /// <summary>ARM LPAE with one granule: blocks/pages at levels 1-3, stage 1 and 2, every attribute.</summary>
    private static Obligation Lpae(string id, int g, int paBits) => new(id, "INV-14",
        $"ARM LPAE {1 << (g - 10)}K granule: leaves at levels 1-3 round-trip address and attributes (stage 1 and 2), no reserved bit",
        ["LpaePte.LeafAttributes", "LpaePte.EncodeLeaf", "LpaePte.DecodeAddress", "LpaePte.Kind", "LpaePte.IsCanonicalLeaf", "LpaePte.CanRead", "LpaePte.CanWrite"], s =>
        {
            BvTerm pa = s.Input("pa", 64), level = s.Input("level", 32);
            BoolTerm stage2 = s.Flag("stage2"), r = s.Flag("read"), w = s.Flag("write"), cache = s.Flag("cache"),
                     mmio = s.Flag("mmio"), noExec = s.Flag("noExec"), priv = s.Flag("privileged");
            int bpl = g - 3;
            var size = SizeFor(s, level, (1, g + 2 * bpl), (2, g + bpl), (3, g));
            s.Assume(Below(pa, paBits) & Aligned(pa, size) & stage2.Implies(r | w));
            var granule = s.Int(g);
            var attrs = s.Bv("LpaePte.LeafAttributes", stage2, r, w, cache, mmio, noExec, priv);
            var pte = s.Bv("LpaePte.EncodeLeaf", pa, level, granule, attrs);
            // Defined leaf bits: type 1:0, attributes 7:2, SH 9:8, AF 10, output address 47:g
            // (with 64K, PA 51:48 in 15:12), XN 54:53.
            ulong address = g == 16 ? 0x0000_FFFF_FFFF_F000UL : 0x0000_FFFF_FFFF_F000UL & ~((1UL << g) - 1);
            ulong allowed = address | (3UL << 53) | 0x7FFUL;
            return (s.Bv("LpaePte.DecodeAddress", pte, granule) == pa)
                   & (s.Bv("LpaePte.Kind", pte, level) == 2UL)
                   & s.Bool("LpaePte.IsCanonicalLeaf", pte, level, granule, stage2)
                   & (s.Bool("LpaePte.CanRead", pte, stage2) == stage2.Ite(r, s.Z3.True))
                   & (s.Bool("LpaePte.CanWrite", pte, stage2) == w)
                   & (!(pte & (1UL << 10)).IsZero)
                   & ((pte & (3UL << 53)) == noExec.Ite(s.Num(3UL << 53), s.Num(0)))
                   & (pte & ~allowed).IsZero;
        });
}
