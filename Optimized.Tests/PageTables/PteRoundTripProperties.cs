using DmaVerify.Contracts;
using DmaVerify.Model;
using DmaVerify.Optimized.PageTables;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DmaVerify.Tests.PageTables;

/// <summary>
/// Every format's PTE encoding, through the interface the generic walker uses: a leaf of any
/// supported size at any address it can hold, with any protection, decodes to that size,
/// address and permissions and is canonical; table entries decode to their table; the level
/// indexes split an IOVA into exactly its bits. The known-answer tests beside this file pin the
/// bit positions; these hold for every address.
/// </summary>
[Properties(Arbitrary = [typeof(Arbitraries), typeof(PteRoundTripProperties)], MaxTest = 500)]
public class PteRoundTripProperties
{
    /// <summary>A format with the name a failure report shows.</summary>
    public sealed record NamedFormat(string Name, IPteFormat Format)
    {
        public override string ToString() => Name;
    }

    /// <summary>One leaf to encode: its format, size, level, physical address and protection.</summary>
    public sealed record Leaf(NamedFormat Format, ulong Size, int Level, ulong Pa, Prot Prot)
    {
        public override string ToString() => $"{Format}: {Hex.Format(Size)} leaf at level {Level}, pa {Hex.Format(Pa)}, prot {Prot}";
    }

    /// <summary>A leaf of a VT-d, AMD v1, ARM LPAE, GART or TCE format (test classes below pick one family).</summary>
    public sealed record VtdLeaf(Leaf Leaf);
    public sealed record AmdLeaf(Leaf Leaf);
    public sealed record LpaeLeaf(Leaf Leaf);
    public sealed record GartLeaf(Leaf Leaf);
    public sealed record TceLeaf(Leaf Leaf);

    public static readonly NamedFormat[] Vtd = [.. new[] { 3, 4, 5 }.Select(n => new NamedFormat($"vtd-ss {n} levels", new VtdSecondStage(n)))];
    public static readonly NamedFormat[] Amd = [new("amd-v1 48-bit", new AmdV1(48)), new("amd-v1 64-bit", new AmdV1(64))];
    public static readonly NamedFormat[] Lpae =
    [
        .. from granule in new[] { 12, 14, 16 }
           from stage2 in new[] { false, true }
           from ias in granule == 16 ? new[] { 40, 48, 52 } : [40, 48]
           select new NamedFormat($"lpae {(stage2 ? "s2" : "s1")} {1 << (granule - 10)}K ias {ias}", new ArmLpae(1UL << granule, ias, 0, stage2)),
    ];
    public static readonly NamedFormat[] Gart = [new("k8-gart 32 MiB at 1 GiB", new K8Gart(0x4000_0000, 1UL << 25))];
    public static readonly NamedFormat[] Tce =
        [.. new[] { 12, 16, 21, 24 }.Select(s => new NamedFormat($"tce {1 << (s - 10)}K pages", new PowerTce(0, 31, s)))];

    /// <summary>The formats with table entries and more than one level.</summary>
    public static readonly NamedFormat[] MultiLevel = [.. Vtd, .. Amd, .. Lpae];
    public static readonly NamedFormat[] All = [.. MultiLevel, .. Gart, .. Tce];

    private static Gen<Leaf> LeafOf(NamedFormat[] formats) =>
        from f in Gen.Elements(formats)
        from size in Gen.Elements(SizesOf(f.Format.PageSizes))
        from bits in Arbitraries.UInt64Gen
        from prot in Gen.Choose(0, 63).Select(b => (Prot)b).Where(p => (p & (Prot.Read | Prot.Write)) != 0)
        let pa = bits & f.Format.PaLast & ~(size - 1)
        where f.Format.PaAllowed(pa, size)
        select new Leaf(f, size, f.Format.LeafLevel(size), pa, prot);

    private static ulong[] SizesOf(ulong bitmap) => [.. Enumerable.Range(0, 64).Select(b => 1UL << b).Where(s => (bitmap & s) != 0)];

    /// <summary>Lower addresses (still aligned and mappable), then fewer protection bits.</summary>
    private static IEnumerable<Leaf> Shrink(Leaf leaf)
    {
        foreach (ulong smaller in Arbitraries.ShrinkUInt64(leaf.Pa))
        {
            ulong pa = smaller & ~(leaf.Size - 1);
            if (pa < leaf.Pa && leaf.Format.Format.PaAllowed(pa, leaf.Size)) yield return leaf with { Pa = pa };
        }
        foreach (var bit in new[] { Prot.Priv, Prot.Mmio, Prot.NoExec, Prot.Cache, Prot.Write, Prot.Read })
        {
            var fewer = leaf.Prot & ~bit;
            if (fewer != leaf.Prot && (fewer & (Prot.Read | Prot.Write)) != 0) yield return leaf with { Prot = fewer };
        }
    }

    private static Arbitrary<T> Leaves<T>(NamedFormat[] formats, Func<Leaf, T> wrap, Func<T, Leaf> unwrap) =>
        Arb.From(LeafOf(formats).Select(wrap), t => Shrink(unwrap(t)).Select(wrap));

    public static Arbitrary<VtdLeaf> VtdLeaves() => Leaves(Vtd, l => new VtdLeaf(l), t => t.Leaf);
    public static Arbitrary<AmdLeaf> AmdLeaves() => Leaves(Amd, l => new AmdLeaf(l), t => t.Leaf);
    public static Arbitrary<LpaeLeaf> LpaeLeaves() => Leaves(Lpae, l => new LpaeLeaf(l), t => t.Leaf);
    public static Arbitrary<GartLeaf> GartLeaves() => Leaves(Gart, l => new GartLeaf(l), t => t.Leaf);
    public static Arbitrary<TceLeaf> TceLeaves() => Leaves(Tce, l => new TceLeaf(l), t => t.Leaf);
    public static Arbitrary<NamedFormat> Formats() => Gen.Elements(All).ToArbitrary();

    /// <summary>Encode, then decode everything the walker reads back.</summary>
    private static ulong AssertRoundTrip(Leaf leaf)
    {
        var f = leaf.Format.Format;
        Assert.True(leaf.Level >= 0, $"{leaf}: no level for the size");
        ulong pte = f.EncodeLeaf(leaf.Pa, leaf.Size, leaf.Level, leaf.Prot);
        string at = $"{leaf} -> pte {Hex.Format(pte)}";
        Assert.True(pte != f.EmptyEntry, $"{at}: reads as an empty slot");
        Assert.Equal(PteKind.Leaf, f.Classify(pte, leaf.Level));
        Assert.True(f.LeafSize(pte, leaf.Level) == leaf.Size, $"{at}: size {Hex.Format(f.LeafSize(pte, leaf.Level))}");
        Assert.True(f.LeafAddress(pte, leaf.Level) == leaf.Pa, $"{at}: address {Hex.Format(f.LeafAddress(pte, leaf.Level))}");
        Assert.Equal(DmaRules.LeafPermissions(f.Kind, leaf.Prot), f.LeafProt(pte, leaf.Level) & (Prot.Read | Prot.Write));
        Assert.True(f.IsCanonicalLeaf(pte, leaf.Level), $"{at}: not canonical");
        return pte;
    }

    [Property]
    public void VtdSecondStageLeavesRoundTrip(VtdLeaf leaf) => AssertRoundTrip(leaf.Leaf);

    [Property]
    public void AmdV1LeavesRoundTrip(AmdLeaf leaf) => AssertRoundTrip(leaf.Leaf);

    /// <summary>LPAE keeps more than read and write: the memory type (MMIO over cache), no-exec
    /// and, at stage 1, privileged-only.</summary>
    [Property]
    public void ArmLpaeLeavesRoundTripWithTheirAttributes(LpaeLeaf leaf)
    {
        ulong pte = AssertRoundTrip(leaf.Leaf);
        var l = leaf.Leaf;
        bool stage2 = l.Format.Format.Kind == PageTableFormatKind.ArmLpaeS2;
        var prot = l.Format.Format.LeafProt(pte, l.Level);
        bool mmio = (l.Prot & Prot.Mmio) != 0;
        Assert.Equal(mmio, (prot & Prot.Mmio) != 0);
        Assert.Equal(!mmio && (l.Prot & Prot.Cache) != 0, (prot & Prot.Cache) != 0);
        Assert.Equal((l.Prot & Prot.NoExec) != 0, (prot & Prot.NoExec) != 0);
        Assert.Equal(!stage2 && (l.Prot & Prot.Priv) != 0, (prot & Prot.Priv) != 0);
    }

    [Property]
    public void GartLeavesRoundTrip(GartLeaf leaf) => AssertRoundTrip(leaf.Leaf);

    [Property]
    public void TceLeavesRoundTrip(TceLeaf leaf) => AssertRoundTrip(leaf.Leaf);

    /// <summary>A table entry at any level above the leaves points back at its table page.</summary>
    [Property]
    public void TableEntriesRoundTrip(ulong bits, int levelChoice)
    {
        foreach (var f in MultiLevel)
        {
            int levels = f.Format.MaxLevels;
            int level = 1 + (int)((uint)levelChoice % (uint)(levels - 1));
            ulong tablePa = bits & f.Format.PaLast & ~(Bits.LowestSetBit(f.Format.PageSizes) - 1); // a granule-aligned page
            ulong pte = f.Format.EncodeTable(tablePa, level);
            Assert.True(f.Format.Classify(pte, level) == PteKind.Table, $"{f}: table entry {Hex.Format(pte)} at level {level}");
            Assert.True(f.Format.TableAddress(pte, level) == tablePa, $"{f}: {Hex.Format(pte)} at level {level} points at {Hex.Format(f.Format.TableAddress(pte, level))}");
        }
    }

    /// <summary>The per-level indexes and the page offset put back together give the IOVA's
    /// offset in the format's space, and each index fits its table.</summary>
    [Property]
    public void LevelIndexesSplitTheIova(NamedFormat named, ulong bits, int levelChoice)
    {
        var f = named.Format;
        int levels = f.InitialLevels + (int)((uint)levelChoice % (uint)(f.MaxLevels - f.InitialLevels + 1));
        int top = levels - 1;
        int spanBits = Math.Min(64, f.LevelShift(top) + f.TableIndexBits(top, levels));
        ulong offset = bits & Bits.LowMask(spanBits) & (f.IovaLast - f.IovaBase);
        ulong iova = f.IovaBase + offset;
        UInt128 rebuilt = offset & Bits.LowMask(f.LevelShift(0));
        for (int level = 0; level < levels; level++)
        {
            int index = f.LevelIndex(iova, level, levels);
            Assert.True(index >= 0 && (ulong)index <= Bits.LowMask(f.TableIndexBits(level, levels)),
                $"{named}, {levels} levels: index {index} at level {level} of {Hex.Format(iova)}");
            rebuilt += (UInt128)(ulong)index << f.LevelShift(level);
        }
        Assert.True(rebuilt == offset,
            $"{named}, {levels} levels: {Hex.Format(iova)} rebuilt as {Hex.Format(rebuilt)}");
    }
}
