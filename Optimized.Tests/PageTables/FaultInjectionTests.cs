using DmaVerify.Contracts;
using DmaVerify.Model;
using DmaVerify.Optimized.PageTables;

namespace DmaVerify.Tests.PageTables;

/// <summary>INV-15 with iommufd's fail-nth idea: fail the n-th table-page allocation for every n
/// and check that the failing map leaves no leaf, no table page and no extra level behind.</summary>
public class FaultInjectionTests
{
    private static readonly Prot RW = Prot.Read | Prot.Write;

    private sealed record Snapshot(IReadOnlyList<Leaf> Leaves, int TablePages, int LivePages, int Levels);

    private static Snapshot Take(IPageTable t) => new(t.Leaves(), t.TablePages, t.Allocator.LivePages, t.Levels);

    private static void AssertSame(Snapshot before, IPageTable t)
    {
        Assert.Equal(before.Leaves, t.Leaves());
        Assert.Equal(before.TablePages, t.TablePages);
        Assert.Equal(before.LivePages, t.Allocator.LivePages);
        Assert.Equal(before.Levels, t.Levels);
        Assert.Empty(t.Audit());
    }

    /// <summary>A map that needs tables on both sides of a top-level boundary and a large page:
    /// [boundary - 3 granules, boundary + big + 3 granules).</summary>
    private static (ulong Iova, ulong Pa, ulong Size) Target(TableCase tc, IPageTable t)
    {
        ulong g = t.Granule;
        ulong big = Bits.HighestSetBit(t.PageSizes & Bits.LowMask(tc.IovaSpanLog2 - 4));
        ulong boundary = tc.IovaLo + (1UL << (tc.IovaSpanLog2 - 1));
        ulong paBoundary = 1UL << (tc.PaSpanLog2 - 4);
        return (boundary - 3 * g, paBoundary - 3 * g, 3 * g + big + 3 * g);
    }

    [Theory]
    [MemberData(nameof(TableCases.RadixNames), MemberType = typeof(TableCases))]
    public void FailingEveryAllocationOfOneMapLeavesNoTrace(string name)
    {
        var tc = TableCases.Get(name);
        foreach (bool populated in new[] { false, true })
        {
            int failed = 0;
            for (int n = 1; ; n++)
            {
                Assert.True(n < 100, "the map never stopped allocating");
                var table = tc.New();
                if (populated) Assert.True(table.Map(tc.IovaLo + table.Granule, 0x1000_0000, table.Granule, RW).IsSuccess);
                var (iova, pa, size) = Target(tc, table);
                var before = Take(table);
                table.Allocator.FailNth(n);
                var result = table.Map(iova, pa, size, RW);
                if (result.IsSuccess)
                {
                    Assert.True(table.Allocator.FailurePending, "a map that hit the injected failure reported success");
                    Assert.Equal(DmaRules.LeavesFor(table.PageSizes, iova, pa, size, table.EffectiveProt(RW)),
                        table.Leaves().Where(l => l.Iova >= iova));
                    break;
                }
                failed++;
                Assert.Equal(DmaErrorKind.OutOfMemory, result.Error);
                Assert.False(table.Allocator.FailurePending);
                AssertSame(before, table);
                // The same map succeeds without the fault, and everything unmaps back to one page.
                Assert.True(table.Map(iova, pa, size, RW).IsSuccess);
                foreach (var leaf in table.Leaves()) Assert.Equal(leaf.Size, table.Unmap(leaf.Iova, leaf.Size));
                Assert.Equal(1, table.TablePages);
                Assert.Equal(1, table.Allocator.LivePages);
            }
            Assert.True(failed >= 2, $"{name}: only {failed} allocation(s) to fail");
        }
    }

    /// <summary>A scenario of maps and unmaps run once per allocation: the n-th allocation fails,
    /// the op that hits it changes nothing, every op before it behaves as in the clean run (later
    /// ones may differ: they can depend on the mapping that failed), and the end state unmaps
    /// back to one table page.</summary>
    [Theory]
    [InlineData("vtd-4")]
    [InlineData("amd-64")]
    [InlineData("amd-48-leaf-array")]
    [InlineData("lpae-s2-16k")]
    [InlineData("lpae-s1-64k-52")]
    public void FailNthSweepOverAScenario(string name)
    {
        var tc = TableCases.Get(name);
        var clean = Run(tc, 0, out long allocations);
        Assert.True(allocations > 5);
        for (int n = 1; n <= allocations; n++)
        {
            var outcomes = Run(tc, n, out _);
            int first = Enumerable.Range(0, clean.Count).FirstOrDefault(i => outcomes[i] != clean[i], -1);
            Assert.True(first >= 0, $"fail-nth {n}: no op noticed the failure");
            Assert.Equal("OutOfMemory", outcomes[first]);
        }
    }

    private static List<string> Run(TableCase tc, int failNth, out long allocations)
    {
        var table = tc.New();
        ulong g = table.Granule;
        ulong big = Bits.HighestSetBit(table.PageSizes & Bits.LowMask(tc.IovaSpanLog2 - 4));
        ulong lo = tc.IovaLo, half = 1UL << (tc.IovaSpanLog2 - 1);
        // PAs congruent to the IOVA modulo the big page, so big maps use big leaves (a
        // non-congruent 2^44-byte map would be billions of 4 KiB pages, correctly).
        ulong Pa(ulong iova, ulong k) => k * big + (iova & (big - 1));
        var ops = new List<(bool Map, ulong Iova, ulong Pa, ulong Size)>
        {
            (true, lo + g, Pa(lo + g, 1), 4 * g),
            (true, lo + half - 2 * g, Pa(lo + half - 2 * g, 2), big + 4 * g),
            (true, lo + 4 * big, Pa(lo, 4), big),
            (false, lo + g, 0, 4 * g),
            (true, lo + half + 2 * big + 5 * g, Pa(lo + 5 * g, 5) + 8 * g, 7 * g),  // not congruent: small pages
            (true, lo + half - 2 * g, Pa(lo, 6), g),                                 // overlap: AddressInUse
            (false, lo + 4 * big, 0, g),                                              // partial unmap of a large leaf
            (true, lo + 3 * half / 2, Pa(lo, 7), big + g),
            (true, lo + 4 * big + g, Pa(lo + g, 8), 2 * g),
        };
        if (failNth > 0) table.Allocator.FailNth(failNth);
        var outcomes = new List<string>();
        foreach (var op in ops)
        {
            var before = Take(table);
            if (op.Map)
            {
                var r = table.Map(op.Iova, op.Pa, op.Size, RW);
                outcomes.Add(r.Error?.ToString() ?? "ok");
                if (r.Error == DmaErrorKind.OutOfMemory) AssertSame(before, table);
            }
            else outcomes.Add(table.Unmap(op.Iova, op.Size).ToString("X"));
            Assert.Empty(table.Audit());
        }
        allocations = table.Allocator.Attempts - 1; // the top table came first
        foreach (var leaf in table.Leaves()) Assert.Equal(leaf.Size, table.Unmap(leaf.Iova, leaf.Size));
        Assert.Equal(1, table.TablePages);
        Assert.Equal(1, table.Allocator.LivePages);
        return outcomes;
    }

    [Fact]
    public void TopTableAllocationFailureCreatesNothing()
    {
        var allocator = new TablePageAllocator();
        allocator.FailNth(1);
        Assert.Null(PageTableFactory.TryCreate(Formats.VtdSecondStage(), new PageTableOptions { Allocator = allocator }));
        Assert.Equal(0, allocator.LivePages);
        Assert.NotNull(PageTableFactory.TryCreate(Formats.VtdSecondStage(), new PageTableOptions { Allocator = allocator }));
        Assert.Equal(1, allocator.LivePages);
    }

    [Theory]
    [InlineData("gart")]
    [InlineData("tce-4k")]
    public void FlatTablesNeverAllocateWhileMapping(string name)
    {
        var tc = TableCases.Get(name);
        var table = tc.New();
        table.Allocator.FailNth(1);
        Assert.True(table.Map(tc.IovaLo, 0x1000_0000, 64 * table.Granule, RW).IsSuccess);
        Assert.True(table.Allocator.FailurePending);
    }
}
