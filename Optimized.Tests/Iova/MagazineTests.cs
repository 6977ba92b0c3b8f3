using DmaVerify.Optimized.Iova;

namespace DmaVerify.Tests.IovaAllocators;

/// <summary>The range cache in front of both trees: hits, the limit on pop, the depot, flush-and-retry.</summary>
public class MagazineTests
{
    private const ulong Limit32 = Allocators.Limit32;

    [Fact]
    public void AFreedRangeComesBackFromTheCacheLastInFirstOut()
    {
        foreach (var (name, make) in Allocators.Both())
        {
            var a = make(1);
            ulong p = a.AllocFast(3, Limit32, true), q = a.AllocFast(4, Limit32, true);
            Assert.True(a.FreeFast(p, 3) && a.FreeFast(q, 4));  // 3 and 4 pages share class 2
            Assert.Equal(2, a.CachedCount);
            Assert.Equal(2, a.Count);                           // cached ranges stay in the tree
            Assert.True(q == a.AllocFast(4, Limit32, false), name);
            Assert.True(p == a.AllocFast(2 + 1, Limit32, false), name);
            Assert.Equal(0, a.CachedCount);
        }
    }

    [Fact]
    public void PopHonoursTheLimit()
    {
        foreach (var (name, make) in Allocators.Both())
        {
            var a = make(1);
            ulong p = a.AllocFast(8, Limit32, true);
            Assert.Equal(Limit32 - 7, p);
            Assert.True(a.FreeFast(p, 8));
            ulong low = a.AllocFast(8, Limit32 - 1, true);      // p would end above this limit
            Assert.True(low != p && low + 7 <= Limit32 - 1, name);
            Assert.True(p == a.AllocFast(8, Limit32, true), name); // still cached, and fits now
        }
    }

    [Fact]
    public void CachesAreFlushedAndTheTreeRetriedBeforeFailing()
    {
        foreach (var (name, make) in Allocators.Both())
        {
            var a = make(1);
            var pfns = new List<ulong>();
            for (ulong p; (p = a.AllocFast(1, 63, true)) != 0;) pfns.Add(p);
            Assert.Equal(63, pfns.Count);
            foreach (var p in pfns) Assert.True(a.FreeFast(p, 1));
            Assert.Equal(63, a.CachedCount);
            Assert.True(0UL == a.AllocFast(2, 63, flushCachesOnFailure: false), name); // blocked by class-0 ranges
            Assert.True(62UL == a.AllocFast(2, 63, flushCachesOnFailure: true), name);
            Assert.Equal(0, a.CachedCount);
            Assert.Equal(1, a.Count);
        }
    }

    [Fact]
    public void FullMagazinesGoToTheDepotAndAnOverlongDepotIsTrimmedToTheTree()
    {
        foreach (var (name, make) in new (string, Func<CachedIovaAllocator>)[]
                 {
                     ("Augmented", () => new AugmentedIovaAllocator(1, cacheSlots: 1, depotKeep: 1)),
                     ("LinuxStyle", () => new LinuxStyleIovaAllocator(1, cacheSlots: 1, depotKeep: 1)),
                 })
        {
            var a = make();
            var pfns = new List<ulong>();
            for (int i = 0; i < 600; i++) pfns.Add(a.AllocFast(1, Limit32, true));
            foreach (var p in pfns) Assert.True(a.FreeFast(p, 1));
            // loaded + prev + one depot magazine are kept; the rest was trimmed back to the tree.
            int mag = MagazineRules.MagazineSize;
            Assert.True(a.CachedCount <= 3 * mag && a.CachedCount > 2 * mag, $"{name}: {a.CachedCount} cached");
            Assert.Equal(a.CachedCount, a.Count);
            var again = new HashSet<ulong>();
            for (int i = 0; i < 600; i++) Assert.True(again.Add(a.AllocFast(1, Limit32, false)), name); // cache, depot, then tree
            Assert.DoesNotContain(0UL, again);
            Assert.Equal(600, a.Count);
        }
    }

    [Fact]
    public void SizesAboveThirtyTwoPagesBypassTheCache()
    {
        foreach (var (name, make) in Allocators.Both())
        {
            var a = make(1);
            ulong p = a.AllocFast(33, Limit32, true);
            Assert.True(p % 64 == 0 && p + 32 <= Limit32, name);
            Assert.True(a.FreeFast(p, 33));
            Assert.Equal(0, a.CachedCount);
            Assert.Equal(0, a.Count);
        }
    }
}
