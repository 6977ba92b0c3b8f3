using DmaVerify.Contracts;
using DmaVerify.Model;
using DmaVerify.Optimized.PageTables;

namespace DmaVerify.Tests.PageTables;

public class AmdV1GrowthAndLeafArrayTests
{
    private static readonly Prot RW = Prot.Read | Prot.Write;

    private static PageTable<AmdV1> New(int inputBits = 64, bool leafArray = false) =>
        PageTable<AmdV1>.TryCreate(new AmdV1(inputBits), new PageTableOptions { LeafPageArray = leafArray })!;

    /// <summary>test_increase_level: the top grows one level at a time when a map lands just
    /// outside the current range (3 levels reach 2^39, 4 reach 2^48, 5 reach 2^57).</summary>
    [Fact]
    public void TopGrowsOneLevelAtATime()
    {
        var table = New();
        Assert.Equal(3, table.Levels);
        Assert.True(table.Map(0, 0x1000, 0x1000, RW).IsSuccess);
        Assert.Equal(3, table.Levels);
        var mapped = new List<ulong> { 0 };
        for (int levels = 3; levels <= 5; levels++)
        {
            ulong iova = 1UL << (12 + 9 * levels);
            Assert.True(table.Map(iova, 0x1000, 0x1000, RW).IsSuccess);
            Assert.Equal(levels + 1, table.Levels);
            mapped.Add(iova);
            foreach (ulong m in mapped) Assert.Equal(0x1000UL, table.Translate(m)!.Value.Pa);
            Assert.Empty(table.Audit());
        }
        Assert.Equal(6, table.Levels);
        Assert.True(table.Map(ulong.MaxValue - 0xFFF, 0x2000, 0x1000, RW).IsSuccess); // the last page of 2^64
        Assert.Equal(0x2FFFUL, table.Translate(ulong.MaxValue)!.Value.Pa);
        foreach (var leaf in table.Leaves()) Assert.Equal(leaf.Size, table.Unmap(leaf.Iova, leaf.Size));
        Assert.Equal(1, table.TablePages);
        Assert.Equal(6, table.Levels); // the top never shrinks on unmap
    }

    [Fact]
    public void AnEmptyTopGrowsWithoutAllocating()
    {
        var table = New();
        Assert.True(table.Map(1UL << 60, 0x1000, 0x1000, RW).IsSuccess);
        Assert.Equal(6, table.Levels);
        Assert.Equal(6, table.TablePages); // top plus one table per level below
        Assert.Equal(6, table.Allocator.Attempts);
    }

    [Fact]
    public void TheTopHoldsNoLeaves()
    {
        var table = New(48);
        // 1 GiB lives at level 2, the top of a 3-level table: one more level is needed.
        Assert.True(table.Map(0x4000_0000, 0x4000_0000, 0x4000_0000, RW).IsSuccess);
        Assert.Equal(4, table.Levels);
        // 1 TiB is a next-level-7 leaf at level 3 (two 512 GiB slots): five levels, although
        // the IOVA fits in 48 bits.
        Assert.True(table.Map(1UL << 41, 1UL << 41, 1UL << 40, RW).IsSuccess);
        Assert.Equal(5, table.Levels);
        Assert.Equal(2, table.Stats().LeafEntriesPerLevel[3]);
        Assert.Empty(table.Audit());
        Assert.Equal(DmaErrorKind.OutOfRange, table.Map(1UL << 48, 0, 0x1000, RW).Error);
    }

    [Fact]
    public void FailedGrowthIsUndone()
    {
        var table = New();
        Assert.True(table.Map(0, 0x1000, 0x1000, RW).IsSuccess);
        int pages = table.TablePages;
        for (int n = 1; n <= 3; n++)
        {
            table.Allocator.FailNth(n);
            Assert.Equal(DmaErrorKind.OutOfMemory, table.Map(1UL << 60, 0x1000, 0x1000, RW).Error);
            Assert.Equal(3, table.Levels);
            Assert.Equal(pages, table.TablePages);
            Assert.Equal(pages, table.Allocator.LivePages);
            Assert.Empty(table.Audit());
        }
    }

    /// <summary>The leaf-page array finds the same PTE as a walk, and stays in step with the
    /// tree through maps of every small size, unmaps, deferred frees and table replacement.</summary>
    [Fact]
    public void LeafPageArrayAgreesWithTheWalk()
    {
        var table = New(48, leafArray: true);
        var seams = (IPageTableInternals)table;
        var rng = new Random(21);
        const ulong lo = 0xFFFF_0000_0000, span = 1UL << 30;
        var live = new List<(ulong Iova, ulong Size)>();
        var freeList = new TableFreeList();
        int fastHits = 0;
        for (int op = 0; op < 4000; op++)
        {
            if (live.Count == 0 || rng.Next(3) > 0)
            {
                ulong size = 1UL << rng.Next(12, 23); // 4K .. 4M: level-0 NL 7 leaves and 2M/4M
                ulong iova = lo + ((ulong)rng.NextInt64((long)(span / size)) * size);
                if (table.Map(iova, iova - lo + 0x1_0000_0000, size, RW).IsSuccess) live.Add((iova, size));
            }
            else
            {
                int i = rng.Next(live.Count);
                table.Unmap(live[i].Iova, live[i].Size, rng.Next(2) == 0 ? freeList : null);
                live.RemoveAt(i);
            }
            if (op % 50 == 0) Assert.Empty(table.Audit());
            for (int p = 0; p < 8; p++)
            {
                ulong iova = lo + ((ulong)rng.NextInt64((long)span) & ~0xFFFUL);
                bool viaArray = table.TryTranslate(iova, out var a);
                bool viaWalk = seams.TryTranslateByWalk(iova, out var w);
                Assert.Equal(viaWalk, viaArray);
                Assert.Equal(w, a);
                if (table.TryFindLeafPte(iova, out ulong pte))
                {
                    fastHits++;
                    Assert.Equal(seams.RawEntryForTest(iova, 0), pte);
                }
                else Assert.True(!viaWalk || w.LeafSize >= 1UL << 21, "a 4K-table IOVA missing from the leaf-page array");
            }
        }
        Assert.True(fastHits > 1000, $"{fastHits} lookups through the array");
        table.ReleaseDeferred(freeList);
        foreach (var (iova, size) in live) table.Unmap(iova, size);
        Assert.Equal(1, table.TablePages);
        Assert.Equal(1, table.Allocator.LivePages);
        Assert.Empty(table.Audit());
    }

    [Fact]
    public void FourKMapsIntoAKnownLeafTableAllocateNothing()
    {
        var table = New(48, leafArray: true);
        Assert.True(table.Map(0x7F_0000_0000, 0x1000, 0x1000, RW).IsSuccess);
        long attempts = table.Allocator.Attempts;
        for (ulong i = 1; i < 512; i++) Assert.True(table.Map(0x7F_0000_0000 + (i << 12), i << 12, 0x1000, RW).IsSuccess);
        Assert.Equal(attempts, table.Allocator.Attempts);
        Assert.Equal(DmaErrorKind.AddressInUse, table.Map(0x7F_0000_5000, 0, 0x1000, RW).Error);
        for (ulong i = 0; i < 512; i++) Assert.Equal(0x1000UL, table.Unmap(0x7F_0000_0000 + (i << 12), 0x1000));
        Assert.Equal(1, table.TablePages);
        Assert.Empty(table.Audit());
    }
}
