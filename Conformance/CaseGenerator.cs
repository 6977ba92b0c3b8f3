namespace DmaVerify.Conformance;

/// <summary>
/// Random conformance cases. Most cases live in a small space (a top limit of 0x3f to 0xffff
/// PFNs above a small start PFN) so that allocations collide, fill the space and fail within a
/// few dozen calls; some reach up to 4 GiB, 2^52 PFNs and the end of the space. Sizes are mostly
/// 1-8 pages, then up to 40 (around the alloc_fast rounding limit of 32), sometimes a good part
/// of the space. Limits are mostly the top, else anywhere above the start. Every call kind
/// appears, frees about as often as allocations, so the live population rises and falls;
/// bursts of one size fill the allocator's caches.
/// </summary>
internal sealed class CaseGenerator(Random random, int granuleShift)
{
    private static readonly ulong[] Tops = [0x3F, 0xFF, 0x3FF, 0xFFFF, (1UL << 20) - 1, (1UL << 32) - 1];

    public AllocatorCase Next(int calls)
    {
        ulong max = Math.Min(ulong.MaxValue >> granuleShift, ulong.MaxValue - 1);
        ulong start = random.Next(10) < 7 ? 1 : (ulong)random.Next(2, 65);
        int pick = random.Next(20);
        ulong top = pick < 17 ? Tops[Math.Min(pick / 4, 3)] : pick < 19 ? Tops[pick - 13] : max;
        top = Math.Min(Math.Max(top, start + 8), max);
        var list = new List<AllocatorCall>(calls);
        // The first half leans to allocating, the second to giving back, so a case both fills
        // its space and drains it. Now and then a burst maps and unmaps many ranges of one size
        // (a driver's ring of buffers): that is what fills and spills the per-size caches.
        while (list.Count < calls)
        {
            if (random.Next(100) < 4) Burst(list, start, top, calls);
            else list.Add(Call(start, top, max, grow: list.Count < calls / 2 ? 12 : -12));
        }
        return new AllocatorCase(start, granuleShift, list);
    }

    private void Burst(List<AllocatorCall> list, ulong start, ulong top, int calls)
    {
        int n = Math.Min(random.Next(3, 17), Math.Max(1, (calls - list.Count) / 2));
        ulong pages = (ulong)random.Next(1, 9);
        ulong limit = Limit(start, top);
        for (int i = 0; i < n; i++) list.Add(new AllocFastCall(pages, limit, true));
        for (int i = 0; i < n; i++) list.Add(new FreeFastCall(random.Next(4) == 0 ? random.Next(64) : 0));
    }

    private AllocatorCall Call(ulong start, ulong top, ulong max, int grow)
    {
        int r = random.Next(100);
        if (r < 34 + grow) return new AllocFastCall(Pages(start, top), Limit(start, top), random.Next(5) != 0);
        if (r < 48 + grow) return new AllocCall(Pages(start, top), Limit(start, top), random.Next(4) != 0);
        if (r < 62) return new FreeCall(random.Next(64), random.Next(4) == 0 ? (ulong)random.Next(1, 64) : 0);
        if (r < 78) return new FreeFastCall(random.Next(64));
        if (r < 82) return new FreeUnheldCall(start + Below(top - start + 1));
        if (r < 92)
        {
            ulong lo = random.Next(8) == 0 ? Below(start + 1) : start + Below(top - start + 1);
            ulong hi = Math.Min(lo + Below(16), max);
            return new ReserveCall(lo, hi);
        }
        return new FlushCall();
    }

    private ulong Pages(ulong start, ulong top)
    {
        ulong room = top - start + 1;
        int r = random.Next(100);
        ulong pages = r < 70 ? (ulong)random.Next(1, 9) : r < 90 ? (ulong)random.Next(9, 41) : 1 + Below(Math.Max(1, room / 4));
        return Math.Min(pages, room);
    }

    private ulong Limit(ulong start, ulong top) => random.Next(10) < 5 ? top : start + Below(top - start + 1);

    /// <summary>Uniform in [0, n), n ≥ 1.</summary>
    private ulong Below(ulong n) => n <= 1 ? 0 : (ulong)random.NextInt64(long.MaxValue) % n;
}
