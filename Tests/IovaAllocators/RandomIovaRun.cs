using DmaVerify.Contracts;
using DmaVerify.Model;
using DmaVerify.Optimized.Iova;

namespace DmaVerify.Tests.IovaAllocators;

/// <summary>
/// A fixed-seed random sequence of alloc (fast and tree, aligned and not), free, reserve and
/// flush on one allocator, with limits below and above 4 GiB, sizes from one page to 4 GiB, and
/// every outcome checked against the model's specification through an <see cref="IovaMirror"/>:
/// each allocation must be allowed (Judge), each failure after a cache flush must have no fit
/// (DefaultFit). LinuxStyle failures that do have a fit are counted, and each must be a
/// max32_alloc_size fast-fail (its documented incompleteness); anything else fails the run.
/// </summary>
internal sealed class RandomIovaRun
{
    public const ulong Pfn4G = 1UL << 20;   // first PFN at 4 GiB (4 KiB granule)
    public const ulong TopPfn = (1UL << 22) - 1; // 16 GiB: the highest limit the run uses

    private readonly IIovaAllocator _alloc;
    private readonly Random _rng;
    private readonly IovaMirror _mirror;
    private readonly Func<string?>? _checkTree;
    private readonly bool _linux;

    public int Allocs, Failures, Frees, Reserves, RefusedReserves, Flushes;
    /// <summary>LinuxStyle only: failures the specification says were wrong (all max32 fast-fails).</summary>
    public int Incomplete;
    public long LiveSum;
    public int LiveMax;

    public RandomIovaRun(IIovaAllocator alloc, int seed, Func<string?>? checkTree = null)
    {
        _alloc = alloc;
        _rng = new Random(seed);
        _mirror = new IovaMirror(alloc.StartPfn);
        _checkTree = checkTree;
        _linux = alloc is LinuxStyleIovaAllocator;
    }

    public IovaMirror Mirror => _mirror;

    public void Run(int ops)
    {
        for (int i = 0; i < ops; i++)
        {
            // Alternate growing and shrinking phases so the live population swings widely.
            int r = _rng.Next(100), grow = (i / 1500) % 2 == 0 ? 12 : -12;
            string context = $"op {i}";
            if (r < 40 + grow) AllocFast(context);
            else if (r < 50 + grow) AllocTree(context);
            else if (r < 96) FreeOne(context);
            else if (r < 98) ReserveOne(context);
            else { _alloc.FlushCaches(); Flushes++; }
            LiveSum += _mirror.LiveCount;
            LiveMax = Math.Max(LiveMax, _mirror.LiveCount);
            if (_checkTree?.Invoke() is string error) Assert.Fail($"{context}: {error}");
        }
    }

    private ulong Pages()
    {
        int r = _rng.Next(100);
        if (r < 70) return 1 + (ulong)_rng.Next(64);
        if (r < 95) return (1UL << _rng.Next(6, 18)) + (ulong)_rng.Next(3) - 1;
        return 1UL << _rng.Next(18, 21);
    }

    private ulong Limit() => _rng.Next(10) switch
    {
        < 4 => Pfn4G - 1,
        < 5 => Pfn4G / 4 - 1, // a 30-bit device
        < 6 => _alloc.StartPfn + (ulong)_rng.NextInt64(16, (long)Pfn4G),
        < 8 => TopPfn,
        _ => Pfn4G + (ulong)_rng.NextInt64((long)(TopPfn - Pfn4G)),
    };

    private void AllocFast(string context)
    {
        ulong pages = Pages(), limit = Limit();
        bool flush = _rng.Next(5) != 0;
        var request = _mirror.FastRequest(pages, limit);
        ulong pfn = _alloc.AllocFast(pages, limit, flush);
        context += $": AllocFast({pages:X}, limit {limit:X}, flush {flush})";
        if (pfn != 0) { _mirror.Allocated(pfn, request, pages, fast: true, context); Allocs++; return; }
        Failures++;
        if (flush) CheckCompleteness(request, context);
    }

    private void AllocTree(string context)
    {
        ulong pages = Pages(), limit = Limit();
        bool aligned = _rng.Next(4) != 0;
        var request = IovaMirror.TreeRequest(pages, limit, aligned);
        ulong pfn = _alloc.Alloc(pages, limit, aligned);
        context += $": Alloc({pages:X}, limit {limit:X}, aligned {aligned})";
        if (pfn == 0 && _alloc.CachedCount != 0)
        {
            // Tree allocations do not flush; completeness is judged after a flush, so flush and retry.
            _alloc.FlushCaches();
            Flushes++;
            pfn = _alloc.Alloc(pages, limit, aligned);
        }
        if (pfn != 0) { _mirror.Allocated(pfn, request, pages, fast: false, context); Allocs++; return; }
        Failures++;
        CheckCompleteness(request, context);
    }

    private void CheckCompleteness(IovaSpace.Request request, string context)
    {
        if (_mirror.FitFor(request) is not AddrRange fit) return;
        if (_alloc is LinuxStyleIovaAllocator linux && linux.LastOutcome == LinuxStyleIovaAllocator.Outcome.Max32FastFail)
        {
            Incomplete++;
            return;
        }
        Assert.Fail($"{context} failed but {fit} fits (INV-11)");
    }

    private void FreeOne(string context)
    {
        if (_mirror.PickLive(_rng) is not { } live) return;
        bool ok = live.Fast
            ? _alloc.FreeFast(live.Pfn, live.Requested)
            : _alloc.Free(live.Pfn + (ulong)_rng.NextInt64((long)live.Pages)); // any PFN inside frees the range
        Assert.True(ok, $"{context}: freeing {live} failed");
        _mirror.Freed(live);
        Frees++;
    }

    private void ReserveOne(string context)
    {
        ulong lo = _alloc.StartPfn + (ulong)_rng.NextInt64((long)(TopPfn - _alloc.StartPfn));
        ulong hi = lo + (ulong)_rng.Next(1, 1 << _rng.Next(1, 12));
        if (hi > TopPfn) hi = TopPfn;
        bool overlapsLive = _mirror.OverlapsLive(lo, hi);
        if (_linux)
        {
            // Linux reserves only at domain init, with nothing allocated or cached there: keep to
            // that (reserve_iova would merge into the allocation and free it along with it).
            if (overlapsLive) return;
            _alloc.FlushCaches();
        }
        bool ok = _alloc.Reserve(lo, hi);
        Assert.True(ok == !overlapsLive, $"{context}: Reserve({lo:X}, {hi:X}) returned {ok}, overlaps a live allocation: {overlapsLive}");
        if (ok) { _mirror.Reserved(lo, hi); Reserves++; }
        else RefusedReserves++;
    }

    /// <summary>After a flush the tree holds exactly the live allocations and the reservations.</summary>
    public void CheckTreeMatchesMirror()
    {
        _alloc.FlushCaches();
        Assert.Equal(0, _alloc.CachedCount);
        var ranges = _alloc.Ranges();
        var live = _mirror.LiveRanges.Select(l => (l.Pfn, l.Pfn + l.Pages - 1)).OrderBy(x => x).ToList();
        var nodes = ranges.Where(r => !r.Reserved).Select(r => (r.PfnLo, r.PfnHi)).ToList();
        Assert.Equal(live, nodes);
        foreach (var (lo, hi) in live) Assert.True(_alloc.Contains(lo) && _alloc.Contains(hi));
        foreach (var res in _mirror.Domain.Reserved)
        {
            ulong lo = res.Range.Start >> IovaMirror.Shift, hi = res.Range.Last >> IovaMirror.Shift;
            Assert.True(Covered(ranges, lo, hi), $"reserved [{lo:X}..{hi:X}] is not wholly occupied");
        }
    }

    /// <summary>Whether the sorted, disjoint <paramref name="ranges"/> cover [lo, hi] without a hole.</summary>
    private static bool Covered(IReadOnlyList<IovaRange> ranges, ulong lo, ulong hi)
    {
        ulong next = lo;
        foreach (var r in ranges)
        {
            if (r.PfnHi < next) continue;
            if (r.PfnLo > next) return false;
            if (r.PfnHi >= hi) return true;
            next = r.PfnHi + 1;
        }
        return false;
    }

    /// <summary>Frees every live allocation; afterwards only reservations remain in the tree.</summary>
    public void FreeAll()
    {
        foreach (var live in _mirror.LiveRanges.ToList())
        {
            Assert.True(live.Fast ? _alloc.FreeFast(live.Pfn, live.Requested) : _alloc.Free(live.Pfn));
            _mirror.Freed(live);
        }
        _alloc.FlushCaches();
        Assert.All(_alloc.Ranges(), r => Assert.True(r.Reserved, $"{r} left after freeing everything"));
    }

    public override string ToString() =>
        $"allocs {Allocs}, failures {Failures}, frees {Frees}, reserves {Reserves} (+{RefusedReserves} refused), flushes {Flushes}, " +
        $"live {_mirror.LiveCount} (max {LiveMax}, mean {LiveSum / Math.Max(1, Allocs + Failures + Frees + Reserves + RefusedReserves + Flushes)}), nodes {_alloc.Count}, LinuxStyle incomplete {Incomplete}";
}
