using DmaVerify.Contracts;
using DmaVerify.Model;
using DmaVerify.Optimized.PageTables;

namespace DmaVerify.Tests.PageTables;

/// <summary>The iommu_domain-level cases of generic_pt's KUnit suite
/// (docs/linux-facts.md#generic_pt-tests).</summary>
public class GenericPtRegressionTests
{
    private const ulong K4 = 0x1000, M2 = 0x20_0000, G1 = 0x4000_0000;
    private static readonly Prot RW = Prot.Read | Prot.Write;

    public static TheoryData<string> VtdAndAmd() => new() { "vtd-4", "amd-48", "amd-48-leaf-array" };

    /// <summary>test_pgsize_boundary: 0xFEF80000..0xFEF9FFFF → PA 0x208B95D000 (only 4 KiB
    /// aligned, so 32 pages of 4 KiB).</summary>
    [Theory]
    [MemberData(nameof(VtdAndAmd))]
    public void PgsizeBoundary(string name)
    {
        var table = TableCases.Get(name).New();
        const ulong iova = 0xFEF8_0000, pa = 0x20_8B95_D000, size = 0x2_0000;
        Assert.True(table.Map(iova, pa, size, RW).IsSuccess);
        Assert.Equal(DmaRules.LeavesFor(table.PageSizes, iova, pa, size, RW), table.Leaves());
        Assert.Equal(32, table.Leaves().Count);
        for (ulong off = 0; off < size; off += K4)
            Assert.Equal(pa + off + 0x123, table.Translate(iova + off + 0x123)!.Value.Pa);
        Assert.Null(table.Translate(iova + size));
        Assert.Equal(size, table.Unmap(iova, size));
        Assert.Equal(1, table.TablePages);
    }

    /// <summary>test_mixed: 0x3FE400000..0x4C0600000 must use 14×2M + 3×1G + 3×2M = 20 entries.
    /// VT-d has 20 leaves; AMD v1 uses 4M+8M+16M (2+4+8 slots), 2G+1G (2+1 slots), 4M+2M (2+1
    /// slots): 7 leaves in the same 20 entries, 17 at level 1 and 3 at level 2.</summary>
    [Theory]
    [MemberData(nameof(VtdAndAmd))]
    public void Mixed(string name)
    {
        var table = TableCases.Get(name).New();
        const ulong start = 0x3_FE40_0000, end = 0x4_C060_0000;
        Assert.True(table.Map(start, start, end - start, RW).IsSuccess);
        var stats = table.Stats();
        Assert.Equal(20, stats.LeafEntries);
        Assert.Equal(17, stats.LeafEntriesPerLevel[1]);
        Assert.Equal(3, stats.LeafEntriesPerLevel[2]);
        Assert.Equal(name.StartsWith("vtd") ? 20 : 7, stats.Leaves);
        Assert.Equal(DmaRules.LeavesFor(table.PageSizes, start, start, end - start, RW), table.Leaves());
        if (name.StartsWith("vtd"))
            Assert.Equal(Enumerable.Repeat(M2, 14).Concat(Enumerable.Repeat(G1, 3)).Concat(Enumerable.Repeat(M2, 3)), table.Leaves().Select(l => l.Size));
        else
            Assert.Equal(new[] { 4 * M2 / 2, 8 * M2 / 2, 16 * M2 / 2, 2 * G1, G1, 4 * M2 / 2, M2 }, table.Leaves().Select(l => l.Size));
        Assert.Equal(end - start, table.Unmap(start, end - start));
        Assert.Equal(1, table.TablePages);
        Assert.Empty(table.Audit());
    }

    /// <summary>test_unmap_split: unmapping 4 KiB at the start of a 2 MiB page removes and
    /// returns the whole page, and does not continue into the next one.</summary>
    [Theory]
    [InlineData("vtd-3")]
    [InlineData("amd-48")]
    [InlineData("lpae-s1-4k")]
    [InlineData("lpae-s2-4k-ias40")]
    public void PartialUnmapOfATwoMegPageReturnsTwoMeg(string name)
    {
        var table = TableCases.Get(name).New();
        ulong b = TableCases.Get(name).IovaLo + 0x4000_0000;
        Assert.True(table.Map(b + M2, 0x8000_0000, M2, RW).IsSuccess);
        Assert.True(table.Map(b + 2 * M2, 0x8020_0000, M2, RW).IsSuccess);
        Assert.Equal(M2, table.Unmap(b + M2, K4));
        Assert.Null(table.Translate(b + M2));
        Assert.Null(table.Translate(b + 2 * M2 - 1));
        Assert.Equal(0x8020_0000UL, table.Translate(b + 2 * M2)!.Value.Pa);
        // From the middle of a large page, too (the model removes the leaf containing the cursor).
        Assert.Equal(M2, table.Unmap(b + 2 * M2 + 0x10_0000, K4));
        Assert.Empty(table.Leaves());
        Assert.Equal(1, table.TablePages);
    }

    [Fact]
    public void PartialUnmapOfAnAmdNextLevel7LeafClearsEveryReplica()
    {
        var table = TableCases.Get("amd-48").New();
        var raw = (IPageTableInternals)table;
        Assert.True(table.Map(0x1_0000_0000, 0x1234_0000, 0x8000, RW).IsSuccess);
        ulong expected = 0x6000_0000_1234_3E01; // see AmdV1PteTests.NextLevel7LeafOf32KiB
        for (ulong off = 0; off < 0x8000; off += K4) Assert.Equal(expected, raw.RawEntryForTest(0x1_0000_0000 + off, 0));
        Assert.Equal(0ul, raw.RawEntryForTest(0x1_0000_8000, 0));
        Assert.Equal(0x8000UL, table.Unmap(0x1_0000_3000, K4));
        for (ulong off = 0; off < 0x8000; off += K4) Assert.Equal(0UL, raw.RawEntryForTest(0x1_0000_0000 + off, 0));
        Assert.Equal(1, table.TablePages);
    }

    /// <summary>test_map_simple: one page of every supported size; each appears exactly once in a
    /// walk, translates, unmaps with its full size; nothing is left.</summary>
    [Theory]
    [MemberData(nameof(TableCases.Names), MemberType = typeof(TableCases))]
    public void MapOneOfEverySize(string name)
    {
        var tc = TableCases.Get(name);
        var table = tc.New();
        var sizes = Enumerable.Range(0, 64).Select(b => 1UL << b).Where(s => (table.PageSizes & s) != 0 && s <= 1UL << (tc.IovaSpanLog2 - 3)).ToArray();
        ulong cursor = tc.IovaLo;
        var placed = new List<(ulong Iova, ulong Size)>();
        foreach (ulong size in sizes)
        {
            ulong iova = (cursor + size - 1) & ~(size - 1);
            ulong pa = size * 3;
            Assert.True(table.Map(iova, pa, size, Prot.Read).IsSuccess, $"{name} size {size:X}");
            Assert.Equal(new Translation(pa + size / 2, table.EffectiveProt(Prot.Read), iova, size), table.Translate(iova + size / 2));
            placed.Add((iova, size));
            cursor = iova + size;
        }
        Assert.Equal(placed, table.Leaves().Select(l => (l.Iova, l.Size)));
        Assert.Empty(table.Audit());
        foreach (var (iova, size) in placed) Assert.Equal(size, table.Unmap(iova, size));
        Assert.Empty(table.Leaves());
        Assert.Equal(1, table.TablePages);
        Assert.Equal(1, table.Allocator.LivePages);
    }

    [Theory]
    [MemberData(nameof(TableCases.Names), MemberType = typeof(TableCases))]
    public void OverlappingMapFailsAndLeavesNothing(string name)
    {
        var tc = TableCases.Get(name);
        var table = tc.New();
        ulong g = table.Granule;
        ulong b = tc.IovaLo + 64 * g;
        Assert.True(table.Map(b + 8 * g, 0x1000_0000, 4 * g, RW).IsSuccess);
        var before = table.Leaves();
        int pages = table.TablePages;
        // Starts in free space, runs into the live mapping: the PA is only granule aligned, so
        // the first 8 granules get mapped as single pages and must be unrolled.
        var result = table.Map(b, 0x2000_0000 + g, 16 * g, RW);
        Assert.Equal(DmaErrorKind.AddressInUse, result.Error);
        Assert.Equal(b + 8 * g, result.At);
        Assert.Equal(before, table.Leaves());
        Assert.Equal(pages, table.TablePages);
        Assert.Equal(pages, table.Allocator.LivePages);
        Assert.Null(table.Translate(b));
        Assert.Empty(table.Audit());
    }

    [Theory]
    [InlineData("vtd-4")]
    [InlineData("amd-48")]
    [InlineData("lpae-s2-16k")]
    public void SmallPageUnderALargeLeafIsAddressInUse(string name)
    {
        var tc = TableCases.Get(name);
        var table = tc.New();
        ulong big = Bits.HighestSetBit(table.PageSizes & Bits.LowMask(31));
        ulong b = tc.IovaLo + 4 * big;
        Assert.True(table.Map(b, 0, big, RW).IsSuccess);
        int pages = table.TablePages;
        Assert.Equal(DmaErrorKind.AddressInUse, table.Map(b + table.Granule, 0x10_0000_0000, table.Granule, RW).Error);
        Assert.Equal(pages, table.TablePages);
        Assert.Single(table.Leaves());
    }

    /// <summary>test_map_table_to_oa: a block may replace an empty table, not a non-empty one.</summary>
    [Theory]
    [InlineData("vtd-4", 1)]
    [InlineData("vtd-4", 2)]
    [InlineData("amd-48-leaf-array", 1)]
    [InlineData("lpae-s1-64k-52", 1)]
    public void BlockOverAnEmptyTableIsFineOverANonEmptyOneFails(string name, int level)
    {
        var tc = TableCases.Get(name);
        var table = tc.New();
        var seams = (IPageTableInternals)table;
        ulong block = 1UL << LevelShift(table, level);
        Assert.True((table.PageSizes & block) != 0);
        ulong b = tc.IovaLo + 8 * block;

        int initial = table.TablePages;
        Assert.True(seams.InstallEmptyTableForTest(b, level));
        Assert.NotEmpty(table.Audit()); // an empty table below the top is not canonical...
        Assert.True(table.Map(b, block, block, RW).IsSuccess); // ...and a block simply replaces it
        Assert.Empty(table.Audit());
        Assert.Equal(block, table.Translate(b)!.Value.LeafSize);
        Assert.Equal(block, table.Unmap(b, block));
        Assert.Equal(initial, table.TablePages);

        Assert.True(table.Map(b + table.Granule, 0, table.Granule, RW).IsSuccess);
        int pages = table.TablePages;
        Assert.Equal(DmaErrorKind.AddressInUse, table.Map(b, block, block, RW).Error);
        Assert.Equal(pages, table.TablePages);
        Assert.Single(table.Leaves());
        Assert.Empty(table.Audit());
    }

    private static int LevelShift(IPageTable table, int level) => table switch
    {
        PageTable<VtdSecondStage> t => t.Format.LevelShift(level),
        PageTable<AmdV1> t => t.Format.LevelShift(level),
        PageTable<ArmLpae> t => t.Format.LevelShift(level),
        _ => throw new ArgumentException(table.Kind.ToString()),
    };

    [Theory]
    [MemberData(nameof(TableCases.Names), MemberType = typeof(TableCases))]
    public void MapValidatesLikeIommuMap(string name)
    {
        var tc = TableCases.Get(name);
        var table = tc.New();
        ulong g = table.Granule, b = tc.IovaLo + 16 * g;
        Assert.Equal(DmaErrorKind.InvalidArgument, table.Map(b, 0, g, Prot.None).Error);
        Assert.Equal(DmaErrorKind.InvalidArgument, table.Map(b, 0, 0, RW).Error);
        Assert.Equal(DmaErrorKind.Unaligned, table.Map(b + g / 2, 0, g, RW).Error);
        Assert.Equal(DmaErrorKind.Unaligned, table.Map(b, g / 2, g, RW).Error);
        Assert.Equal(DmaErrorKind.Unaligned, table.Map(b, 0, g + g / 2, RW).Error);
        Assert.Equal(DmaErrorKind.Overflow, table.Map(b, ulong.MaxValue - g + 1, 2 * g, RW).Error);
        if (table.PaLast < ulong.MaxValue - g) Assert.Equal(DmaErrorKind.OutOfRange, table.Map(b, table.PaLast + 1, g, RW).Error);
        if (table.IovaLast < ulong.MaxValue - g) Assert.Equal(DmaErrorKind.OutOfRange, table.Map(table.IovaLast + 1, 0, g, RW).Error);
        if (table.IovaBase >= g) Assert.Equal(DmaErrorKind.OutOfRange, table.Map(table.IovaBase - g, 0, g, RW).Error);
        Assert.Equal(1, table.TablePages);
        Assert.Equal(0UL, table.Unmap(b + 1, g));
        Assert.Equal(0UL, table.Unmap(b, g));
        Assert.Null(table.Translate(b));
        Assert.Empty(table.Leaves());
    }

    /// <summary>test_entry_oa through the whole table: every leaf size maps PA 0 and the highest
    /// PA it can (below the GART's scratch page there) and reads both back.</summary>
    [Theory]
    [MemberData(nameof(TableCases.Names), MemberType = typeof(TableCases))]
    public void PhysicalAddressZeroAndTheMaximumMapThroughEveryTable(string name)
    {
        var tc = TableCases.Get(name);
        var table = tc.New();
        foreach (ulong size in Enumerable.Range(0, 64).Select(b => 1UL << b).Where(s => (table.PageSizes & s) != 0 && s <= 1UL << (tc.IovaSpanLog2 - 3)))
        {
            ulong maxPa = table.PaLast & ~(size - 1);
            if (table.Kind == PageTableFormatKind.Gart) maxPa -= size; // the top page is the scratch page
            ulong lo = (tc.IovaLo + size - 1) & ~(size - 1);
            foreach (var (iova, pa) in new[] { (lo, 0UL), (lo + size, maxPa) })
            {
                Assert.True(table.Map(iova, pa, size, Prot.Read | Prot.Write).IsSuccess, $"{name} {size:X} pa {pa:X}");
                Assert.Equal(pa + size - 1, table.Translate(iova + size - 1)!.Value.Pa);
                Assert.Equal(new Leaf(iova, pa, size, table.EffectiveProt(Prot.Read | Prot.Write)), Assert.Single(table.Leaves()));
                Assert.Empty(table.Audit());
                Assert.Equal(size, table.Unmap(iova, size));
            }
        }
        Assert.Equal(1, table.TablePages);
    }
}
