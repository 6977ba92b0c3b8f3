using DmaVerify.Contracts;
using DmaVerify.Model;
using DmaVerify.Optimized.PageTables;

namespace DmaVerify.Tests.PageTables;

/// <summary>INV-14's leak half: emptied tables are freed, at once or through a flush-queue
/// free list, and the page count returns to its starting value.</summary>
public class TablePageAccountingTests
{
    private static readonly Prot RW = Prot.Read | Prot.Write;

    [Theory]
    [MemberData(nameof(TableCases.RadixNames), MemberType = typeof(TableCases))]
    public void PagesReturnToTheInitialCountAfterUnmappingEverything(string name)
    {
        var tc = TableCases.Get(name);
        var table = tc.New();
        Assert.Equal(1, table.TablePages);
        var rng = new Random(5);
        var mapped = new HashSet<ulong>();
        for (int i = 0; i < 1000; i++)
        {
            ulong iova = tc.IovaLo + (ulong)rng.NextInt64(1L << (tc.IovaSpanLog2 - 12)) * table.Granule;
            iova &= ~(table.Granule - 1);
            if (iova > table.IovaLast || !mapped.Add(iova)) continue;
            Assert.True(table.Map(iova, iova & table.PaLast & ~(table.Granule - 1), table.Granule, RW).IsSuccess);
        }
        Assert.True(table.TablePages > 100);
        Assert.Equal(table.TablePages, table.Allocator.LivePages);
        foreach (ulong iova in mapped) Assert.Equal(table.Granule, table.Unmap(iova, table.Granule));
        Assert.Equal(1, table.TablePages);
        Assert.Equal(1, table.Allocator.LivePages);
        Assert.Empty(table.Audit());
    }

    [Theory]
    [InlineData("vtd-4", 4)]
    [InlineData("amd-48-leaf-array", 4)]
    [InlineData("lpae-s1-64k-52", 3)]
    public void DeferredFreeKeepsTablesUntilReleased(string name, int levels)
    {
        var tc = TableCases.Get(name);
        var table = tc.New();
        ulong g = table.Granule, iova = tc.IovaLo + 0x40 * g;
        Assert.True(table.Map(iova, 0x1000_0000, g, RW).IsSuccess);
        Assert.Equal(levels, table.TablePages);

        var freeList = new TableFreeList();
        Assert.Equal(g, table.Unmap(iova, g, freeList));
        Assert.Equal(1, table.TablePages);
        Assert.Equal(levels - 1, table.PendingFreeTablePages);
        Assert.Equal(levels - 1, freeList.Count);
        Assert.Equal(levels, table.Allocator.LivePages); // not freed yet
        Assert.Null(table.Translate(iova));
        Assert.Empty(table.Audit()); // detached tables are out of the tree (and the leaf-page array)

        // Mapping again builds new tables; the detached ones are still held.
        Assert.True(table.Map(iova, 0x1000_0000, g, RW).IsSuccess);
        Assert.Equal(2 * levels - 1, table.Allocator.LivePages);

        table.ReleaseDeferred(freeList);
        Assert.Equal(0, table.PendingFreeTablePages);
        Assert.Equal(0, freeList.Count);
        Assert.Equal(levels, table.Allocator.LivePages);
        Assert.Equal(g, table.Unmap(iova, g));
        Assert.Equal(1, table.Allocator.LivePages);
    }

    [Fact]
    public void TablesShareAnAllocator()
    {
        var allocator = new TablePageAllocator();
        var a = PageTableFactory.Create(Formats.VtdSecondStage(4), new PageTableOptions { Allocator = allocator });
        var b = PageTableFactory.Create(Formats.ArmLpae(1UL << 16, 48), new PageTableOptions { Allocator = allocator });
        Assert.True(a.Map(0x1000, 0x1000, 0x1000, RW).IsSuccess);
        Assert.True(b.Map(0x1_0000, 0x1_0000, 0x1_0000, RW).IsSuccess);
        Assert.Equal(a.TablePages + b.TablePages, allocator.LivePages);
        Assert.Equal(0x1000UL, a.Translate(0x1000)!.Value.Pa);
        Assert.Equal(0x1_0000UL, b.Translate(0x1_0000)!.Value.Pa);
        a.Unmap(0x1000, 0x1000);
        b.Unmap(0x1_0000, 0x1_0000);
        Assert.Equal(2, allocator.LivePages);
    }
}
