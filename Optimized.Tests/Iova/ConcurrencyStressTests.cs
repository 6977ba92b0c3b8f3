using DmaVerify.Optimized.Iova;
using Xunit.Abstractions;

namespace DmaVerify.Tests.IovaAllocators;

/// <summary>
/// Several threads allocating and freeing on one allocator. Every page handed out is claimed in
/// a shared bitmap with an atomic OR, so two live ranges that overlap, even briefly, are caught
/// the moment the second is handed out; a thread clears its bits before it frees the range.
/// </summary>
public class ConcurrencyStressTests(ITestOutputHelper output)
{
    private const ulong TopPfn = (1UL << 21) - 1;

    private sealed class Owners(ulong pages)
    {
        private readonly long[] _bits = new long[(pages + 63) / 64];
        public int Overlaps;

        public void Claim(ulong pfn, ulong pages)
        {
            for (ulong p = pfn; p < pfn + pages; p++)
            {
                long bit = 1L << (int)(p % 64);
                if ((Interlocked.Or(ref _bits[p / 64], bit) & bit) != 0) Interlocked.Increment(ref Overlaps);
            }
        }

        public void Release(ulong pfn, ulong pages)
        {
            for (ulong p = pfn; p < pfn + pages; p++) Interlocked.And(ref _bits[p / 64], ~(1L << (int)(p % 64)));
        }
    }

    private static (int Failures, List<(ulong Pfn, ulong Pages, ulong Requested)> Live) Worker(
        IIovaAllocator alloc, Owners owners, int seed, int ops)
    {
        var rng = new Random(seed);
        var live = new List<(ulong Pfn, ulong Pages, ulong Requested)>();
        int failures = 0;
        for (int i = 0; i < ops; i++)
        {
            if (live.Count == 0 || (live.Count < 256 && rng.Next(2) == 0))
            {
                ulong requested = rng.Next(20) == 0 ? (ulong)rng.Next(33, 300) : (ulong)rng.Next(1, 33);
                ulong limit = rng.Next(2) == 0 ? Allocators.Limit32 : TopPfn;
                ulong pfn = alloc.AllocFast(requested, limit, flushCachesOnFailure: true);
                if (pfn == 0) { failures++; continue; }
                ulong pages = IovaFit.FastSize(requested);
                if (pfn + pages - 1 > limit || pfn % IovaFit.RoundUpPow2(pages) != 0) failures += 1_000_000;
                owners.Claim(pfn, pages);
                live.Add((pfn, pages, requested));
            }
            else
            {
                int k = rng.Next(live.Count);
                var (pfn, pages, requested) = live[k];
                live[k] = live[^1];
                live.RemoveAt(live.Count - 1);
                owners.Release(pfn, pages);
                if (!alloc.FreeFast(pfn, requested)) failures += 1_000_000;
            }
        }
        return (failures, live);
    }

    private void Stress(CachedIovaAllocator alloc, int threads, int opsPerThread, Func<string?> checkTree)
    {
        var owners = new Owners(TopPfn + 1);
        var tasks = Enumerable.Range(0, threads)
            .Select(t => Task.Factory.StartNew(() => Worker(alloc, owners, 1000 + t, opsPerThread), TaskCreationOptions.LongRunning))
            .ToArray();
        Task.WaitAll(tasks);
        var results = tasks.Select(t => t.Result).ToList();
        output.WriteLine($"{alloc.GetType().Name}: {threads}×{opsPerThread} ops, live {results.Sum(r => r.Live.Count)}, " +
                         $"nodes {alloc.Count}, cached {alloc.CachedCount}");

        Assert.Equal(0, owners.Overlaps);
        Assert.Equal(0, results.Sum(r => r.Failures));
        // The survivors never overlap, and each is in the tree.
        var all = results.SelectMany(r => r.Live).OrderBy(l => l.Pfn).ToList();
        for (int i = 1; i < all.Count; i++)
            Assert.True(all[i - 1].Pfn + all[i - 1].Pages <= all[i].Pfn, $"{all[i - 1]} overlaps {all[i]}");
        Assert.All(all, l => Assert.True(alloc.Contains(l.Pfn) && alloc.Contains(l.Pfn + l.Pages - 1)));
        Assert.Null(checkTree());

        // Everything frees back.
        foreach (var l in all) Assert.True(alloc.FreeFast(l.Pfn, l.Requested));
        alloc.FlushCaches();
        Assert.Equal(0, alloc.CachedCount);
        Assert.Equal(0, alloc.Count);
        Assert.Empty(alloc.Ranges());
        Assert.Null(checkTree());
    }

    [Fact]
    public void FourThreadsTimesTenToTheFiveOpsOnTheAugmentedAllocator()
    {
        // Two slots for four threads: slots and depots are shared, so their locks are exercised too.
        var alloc = new AugmentedIovaAllocator(1, cacheSlots: 2);
        Stress(alloc, threads: 4, opsPerThread: 100_000, alloc.CheckTree);
    }

    [Fact]
    public void FourThreadsOnTheLinuxStyleAllocator()
    {
        var alloc = new LinuxStyleIovaAllocator(1, cacheSlots: 4);
        Stress(alloc, threads: 4, opsPerThread: 20_000, alloc.CheckTree);
    }
}
