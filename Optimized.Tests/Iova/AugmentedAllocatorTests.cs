using DmaVerify.Harness;
using DmaVerify.Optimized.Iova;

namespace DmaVerify.Tests.IovaAllocators;

/// <summary>The optimized tree: exactly the model's default choice, its reservation rule, and
/// correct answers where a large but misaligned gap would mislead a plain gap search.</summary>
public class AugmentedAllocatorTests
{
    [Fact]
    public void TreeAllocationIsExactlyTheModelsHighestFit()
    {
        var a = new AugmentedIovaAllocator(1);
        var mirror = new AllocatorMirror(1, 12);
        var rng = new Random(11);
        int hits = 0, misses = 0;
        for (int i = 0; i < 6000; i++)
        {
            int r = rng.Next(100);
            if (r < 50)
            {
                ulong pages = rng.Next(10) == 0 ? (ulong)rng.Next(1, 1 << 16) : (ulong)rng.Next(1, 80);
                ulong limit = (ulong)rng.NextInt64(1, 1L << 21);
                bool aligned = rng.Next(4) != 0;
                var request = AllocatorMirror.TreeRequest(pages, limit, aligned);
                var expected = mirror.Fit(request);
                ulong pfn = a.Alloc(pages, limit, aligned);
                Assert.Equal(expected?.Lo ?? 0, pfn);
                if (pfn == 0) { misses++; continue; }
                Assert.Null(mirror.Judge(pfn, request));
                mirror.Allocated(pfn, pages);
                hits++;
            }
            else if (r < 97)
            {
                if (mirror.AllocationCount == 0) continue;
                var (pfn, pages) = mirror.Allocations.ElementAt(rng.Next(mirror.AllocationCount));
                Assert.True(a.Free(pfn + pages - 1));
                mirror.Freed(pfn);
            }
            else
            {
                ulong lo = (ulong)rng.NextInt64(1, 1L << 21), hi = lo + (ulong)rng.Next(64);
                bool ok = a.Reserve(lo, hi);
                Assert.Equal(!mirror.OverlapsAllocation(lo, hi), ok);
                if (ok) mirror.Reserved(lo, hi);
            }
        }
        Assert.True(hits > 1000 && misses > 100, $"{hits} hits, {misses} misses");
        Assert.Null(a.CheckTree());
    }

    [Fact]
    public void ManyMisalignedGapsAreAnsweredExactlyInLogarithmicSteps()
    {
        // 10^4 free gaps of two pages, [4k+1, 4k+2]: big enough for a 2-page request, never
        // 2-aligned. A search on plain gap sizes would have to visit all of them to say no.
        var a = new AugmentedIovaAllocator(1);
        const ulong n = 10_000;
        for (ulong k = 0; k < n; k++) Assert.True(a.Reserve(4 * k + 3, 4 * k + 4));
        ulong limit = 4 * n - 1;
        int bound = 2 * a.Height() + 2;  // one boundary path plus one guided descent
        Assert.True(a.Height() <= 2 * Math.Log2(a.Count + 2), $"height {a.Height()}");

        Assert.Equal(0UL, a.Alloc(2, limit, sizeAligned: true));
        Assert.InRange(a.LastSearchSteps, 1, bound);
        Assert.Equal(0UL, a.AllocFast(2, limit, true));
        Assert.Equal(4 * (n - 1) + 1, a.Alloc(2, limit, sizeAligned: false));
        Assert.InRange(a.LastSearchSteps, 1, bound);
        Assert.Equal(6UL, a.Alloc(1, 6, sizeAligned: true));       // the search under a low limit
        Assert.InRange(a.LastSearchSteps, 1, bound);

        // The only 2-aligned hole is at the very bottom, [2, 3], under 10^4 misaligned ones.
        var b = new AugmentedIovaAllocator(1);
        Assert.True(b.Reserve(1, 1) && b.Reserve(4, 4));
        for (ulong k = 1; k < n; k++) Assert.True(b.Reserve(4 * k + 3, 4 * k + 4));
        Assert.Equal(2UL, b.Alloc(2, limit, sizeAligned: true));
        Assert.InRange(b.LastSearchSteps, 1, 2 * b.Height() + 2);
        Assert.Equal(0UL, b.Alloc(2, limit, sizeAligned: true));
        Assert.Null(b.CheckTree());
        Assert.Null(a.CheckTree());
    }

    [Fact]
    public void ReservationsFollowTheModelsRule()
    {
        var a = new AugmentedIovaAllocator(1);
        ulong x = a.AllocFast(4, 0x103, true);
        Assert.Equal(0x100UL, x);
        Assert.False(a.Reserve(0x102, 0x110));          // overlaps an allocation
        Assert.Equal(1, a.Count);
        Assert.True(a.Reserve(0x200, 0x2FF));
        Assert.True(a.Reserve(0x280, 0x3FF));           // overlaps only a reservation: fills the rest
        Assert.True(a.Reserve(0x1F0, 0x480));
        Assert.True(a.Reserve(0x300, 0x310));           // wholly inside: nothing new
        var reserved = a.Ranges().Where(r => r.Reserved).ToList();
        Assert.Equal(0x1F0UL, reserved[0].PfnLo);
        Assert.Equal(0x480UL, reserved[^1].PfnHi);
        for (int i = 1; i < reserved.Count; i++) Assert.Equal(reserved[i - 1].PfnHi + 1, reserved[i].PfnLo);
        Assert.False(a.Free(0x250));                    // reservations are not freeable
        // A cached range is free to the user: reserving over it flushes it out of the cache first.
        Assert.True(a.FreeFast(x, 4));
        Assert.True(a.Reserve(0x100, 0x103));
        Assert.Equal(0, a.CachedCount);
        Assert.Equal(0xFCUL, a.AllocFast(4, 0x103, true));
        Assert.Null(a.CheckTree());
    }
}
