using DmaVerify.Contracts;
using DmaVerify.Model;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DmaVerify.Tests.Model;

/// <summary>The model keeps page tables as runs of equal leaves: the runs must list exactly the
/// leaves the page-at-a-time iommu_pgsize rule (DmaRules.LeavesFor) makes, for any page-size
/// set, addresses and size.</summary>
public class PageRunTests
{
    /// <summary>Page-size sets of the formats, and odd ones (every size, gaps, a single size).</summary>
    private static readonly ulong[] PageSizeSets =
    [
        0x4000_0000UL | 0x20_0000 | 0x1000,            // VT-d / LPAE 4K
        ~0xFFFUL & ~(1UL << 39),                        // AMD v1: every power of two but 512 GiB
        0x10_0000_0000UL | 0x200_0000 | 0x4000,         // LPAE 16K
        0x200_0000_0000UL | 0x2000_0000 | 0x1_0000,     // LPAE 64K
        0x1000,                                         // GART / TCE
        0x1000 | 0x4000 | 0x1_0000 | 0x40_0000,         // gaps between sizes
    ];

    private static Gen<ulong> Address(ulong granuleAlign) =>
        Gen.Frequency(
            (3, Gen.Choose(0, 1 << 20).Select(v => (ulong)v * granuleAlign)),
            (1, Gen.Choose(0, 64).Select(v => (ulong)v * 0x20_0000)),
            (1, Gen.Choose(0, 8).Select(v => (ulong)v * 0x4000_0000)));

    public static Arbitrary<(ulong Sizes, ulong Iova, ulong Phys, ulong Length)> Requests() =>
        (from sizes in Gen.Elements(PageSizeSets)
         let granule = sizes & (~sizes + 1)
         from iova in Address(granule)
         from phys in Address(granule)
         from pages in Gen.Frequency((4, Gen.Choose(1, 40)), (1, Gen.Choose(1, 2000)))
         select (sizes, iova, phys, (ulong)pages * granule)).ToArbitrary();

    [Property(Arbitrary = [typeof(PageRunTests)], MaxTest = 500)]
    public bool RunsListExactlyTheGreedyLeaves((ulong Sizes, ulong Iova, ulong Phys, ulong Length) r)
    {
        var expected = DmaRules.LeavesFor(r.Sizes, r.Iova, r.Phys, r.Length, Prot.Read).ToList();
        var runs = PageRun.For(r.Sizes, r.Iova, r.Phys, r.Length, Prot.Read);
        return expected.SequenceEqual(runs.SelectMany(run => run.Leaves()));
    }

    [Fact]
    public void AGibibyteOfSmallPagesIsOneRun()
    {
        var runs = PageRun.For(0x1000, 0x1000, 0x4000_1000, 0x4000_0000, Prot.Read | Prot.Write);
        Assert.Equal([new PageRun(0x1000, 0x4000_1000, 0x1000, 0x4_0000, Prot.Read | Prot.Write)], runs);
    }
}
