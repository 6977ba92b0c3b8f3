using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>
/// The IOVA allocation rules as a specification over a <see cref="DomainState"/>: what is
/// occupied, what a request needs (size and alignment), whether a proposed range is allowed,
/// whether any allowed range exists (completeness, INV-11), and the model's default choice.
/// Written for clarity (sorted lists, linear scans); the optimized allocator is checked
/// against it.
/// </summary>
public static class IovaSpace
{
    /// <summary>dma-iommu (alloc_iova_fast): below 32 granules the size is rounded up to a
    /// power of two; the range is aligned to the power-of-two round-up of the size.</summary>
    public const ulong RoundUpBelowGranules = 32;

    /// <summary>A request for IOVA space, in bytes (multiples of the granule).</summary>
    public readonly record struct Request(ulong Bytes, ulong Alignment, ulong Limit, ulong BoundaryMask)
    {
        public override string ToString() =>
            $"{Hex.Format(Bytes)} bytes aligned {Hex.Format(Alignment)} below {Hex.Format(Limit)}" +
            (BoundaryMask == ulong.MaxValue ? "" : $" within boundary {Hex.Format(BoundaryMask)}");
    }

    /// <summary>The request a mapping of <paramref name="length"/> granule-aligned bytes makes
    /// in this domain, below <paramref name="limit"/> (inclusive).</summary>
    public static Request RequestFor(DomainState domain, ulong length, ulong limit, ulong boundaryMask) =>
        RequestFor(domain.Policy, domain.Granule, length, limit, boundaryMask);

    /// <summary>The request for a domain of this policy and granule.</summary>
    public static Request RequestFor(IovaPolicy policy, ulong granule, ulong length, ulong limit, ulong boundaryMask)
    {
        ulong granules = length / granule;
        if (policy == IovaPolicy.PageGranular)
            return new Request(length, granule, limit, boundaryMask);
        ulong pow2 = RoundUpPow2(granules);
        ulong sizeGranules = granules < RoundUpBelowGranules ? pow2 : granules;
        return new Request(sizeGranules * granule, pow2 * granule, limit, ulong.MaxValue);
    }

    public static ulong RoundUpPow2(ulong v) => v <= 1 ? 1 : 1UL << (64 - System.Numerics.BitOperations.LeadingZeroCount(v - 1));

    /// <summary>Every occupied range of the IOVA space, sorted by start: allocations (live,
    /// MSI pages, flush-queue pending) and reserved ranges.</summary>
    public static List<AddrRange> Occupied(DomainState domain)
    {
        var all = domain.Allocations.Select(a => a.Range).Concat(domain.Reserved.Select(r => r.Range)).ToList();
        all.Sort((a, b) => a.Start.CompareTo(b.Start));
        return all;
    }

    /// <summary>Why a proposed range is not allowed, with the invariant it would break
    /// ("ALLOC" for the placement policy itself: size and alignment).</summary>
    public sealed record Rejection(string Invariant, string Reason);

    /// <summary>Whether <paramref name="range"/> satisfies every placement rule of the request
    /// and overlaps nothing occupied. Returns why it does not, or null.</summary>
    public static Rejection? Judge(DomainState domain, Request request, AddrRange range)
    {
        if (JudgeShape(domain.AllocStart, domain.Aperture, request, range) is Rejection shape) return shape;
        foreach (var a in domain.Allocations)
            if (a.Range.Overlaps(range))
                return new(a.Owner == AllocationOwner.FlushQueue ? "INV-08" : "INV-01", $"{range} overlaps the {a.Owner} allocation {a.Range}");
        foreach (var r in domain.Reserved)
            if (r.Range.Overlaps(range))
                return new("INV-02", $"{range} overlaps reserved {r.Range} ({r.Reason})");
        return null;
    }

    /// <summary>The rules of <see cref="Judge"/> that do not look at what else is occupied:
    /// size, alignment, lowest IOVA, limit, aperture, segment boundary.</summary>
    public static Rejection? JudgeShape(ulong allocStart, AddrRange aperture, Request request, AddrRange range)
    {
        if (range.Size != request.Bytes)
            return new("ALLOC", $"size {Hex.Format(range.Size)} differs from the required {Hex.Format(request.Bytes)}");
        if (range.Start % request.Alignment != 0)
            return new("ALLOC", $"start {Hex.Format(range.Start)} is not aligned to {Hex.Format(request.Alignment)}");
        if (range.Start < allocStart)
            return new("INV-05", $"start {Hex.Format(range.Start)} is below the lowest allocatable IOVA {Hex.Format(allocStart)}");
        if (range.Last > request.Limit)
            return new("INV-05", $"end {Hex.Format(range.Last)} is above the limit {Hex.Format(request.Limit)}");
        if (!aperture.Contains(range))
            return new("INV-05", $"{range} is outside the aperture {aperture}");
        if (CrossesBoundary(range, request.BoundaryMask))
            return new("INV-09", $"{range} crosses a segment boundary (mask {Hex.Format(request.BoundaryMask)})");
        return null;
    }

    /// <summary>The model's "Allows": may a system that chose <paramref name="range"/> for the
    /// request have chosen it?</summary>
    public static bool Allows(DomainState domain, Request request, AddrRange range) => Judge(domain, request, range) is null;

    public static string? WhyNotAllowed(DomainState domain, Request request, AddrRange range) =>
        Judge(domain, request, range)?.Reason;

    public static bool CrossesBoundary(AddrRange range, ulong boundaryMask) =>
        boundaryMask != ulong.MaxValue && (range.Start & ~boundaryMask) != (range.Last & ~boundaryMask);

    /// <summary>The highest allowed range for the request (the model's default choice for
    /// size-aligned domains), or null when none exists.</summary>
    public static AddrRange? HighestFit(DomainState domain, Request request) => Fits(domain, request, highest: true);

    /// <summary>The lowest allowed range (the default for the bitmap allocators of GART/TCE).</summary>
    public static AddrRange? LowestFit(DomainState domain, Request request) => Fits(domain, request, highest: false);

    public static AddrRange? DefaultFit(DomainState domain, Request request) =>
        domain.Policy == IovaPolicy.SizeAligned ? HighestFit(domain, request) : LowestFit(domain, request);

    private static AddrRange? Fits(DomainState domain, Request request, bool highest)
    {
        ulong lo = Math.Max(domain.AllocStart, domain.Aperture.Start);
        ulong hi = Math.Min(request.Limit, domain.Aperture.Last);
        if (hi < lo || request.Bytes == 0) return null;
        // Free gaps of [lo, hi] between occupied ranges, in address order.
        var gaps = new List<AddrRange>();
        ulong cursor = lo;
        bool done = false;
        foreach (var occ in Occupied(domain))
        {
            if (occ.Last < cursor) continue;
            if (occ.Start > hi) break;
            if (occ.Start > cursor) gaps.Add(new AddrRange(cursor, occ.Start - 1));
            if (occ.Last >= hi) { done = true; break; }
            cursor = occ.Last + 1;
        }
        if (!done && cursor <= hi) gaps.Add(new AddrRange(cursor, hi));
        if (highest) gaps.Reverse();
        foreach (var gap in gaps)
        {
            var fit = highest ? HighestInGap(gap, request) : LowestInGap(gap, request);
            if (fit is not null) return fit;
        }
        return null;
    }

    /// <summary>The highest allowed range inside one free gap.</summary>
    public static AddrRange? HighestInGap(AddrRange gap, Request request)
    {
        if (gap.Size < request.Bytes) return null;
        ulong start = AlignDown(gap.Last - (request.Bytes - 1), request.Alignment);
        // Step down past boundary crossings; each step lowers the end below the crossed boundary.
        while (start >= gap.Start)
        {
            var r = new AddrRange(start, start + (request.Bytes - 1));
            if (!CrossesBoundary(r, request.BoundaryMask)) return r;
            ulong boundary = r.Last & ~request.BoundaryMask; // first address of the upper boundary unit
            if (boundary < request.Bytes || boundary - request.Bytes < gap.Start) return null;
            start = AlignDown(boundary - request.Bytes, request.Alignment);
        }
        return null;
    }

    /// <summary>The lowest allowed range inside one free gap.</summary>
    public static AddrRange? LowestInGap(AddrRange gap, Request request)
    {
        ulong start = AlignUp(gap.Start, request.Alignment, out bool overflow);
        while (!overflow && start >= gap.Start && (UInt128)start + request.Bytes - 1 <= gap.Last)
        {
            var r = new AddrRange(start, start + (request.Bytes - 1));
            if (!CrossesBoundary(r, request.BoundaryMask)) return r;
            ulong next = (r.Start | request.BoundaryMask) ; // last address of this boundary unit
            if (next == ulong.MaxValue) return null;
            start = AlignUp(next + 1, request.Alignment, out overflow);
        }
        return null;
    }

    public static ulong AlignDown(ulong v, ulong alignment) => v - v % alignment;

    public static ulong AlignUp(ulong v, ulong alignment, out bool overflow)
    {
        ulong rem = v % alignment;
        overflow = rem != 0 && v > ulong.MaxValue - (alignment - rem);
        return rem == 0 ? v : unchecked(v + (alignment - rem));
    }
}
