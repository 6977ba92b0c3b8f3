using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>
/// The placement rules of <see cref="IovaSpace"/> and <see cref="Swiotlb"/> asked of the model's
/// own state: the same per-range and per-gap rules, with the occupied ranges found through the
/// interval trees instead of by scanning lists, so a question costs O(log n).
/// </summary>
public static class Placement
{
    /// <summary>Why <paramref name="range"/> is not an allowed answer to the request in this
    /// domain (<see cref="IovaSpace.Judge"/>), or null.</summary>
    public static IovaSpace.Rejection? Judge(ModelDomain domain, IovaSpace.Request request, AddrRange range)
    {
        if (IovaSpace.JudgeShape(domain.AllocStart, domain.Aperture, request, range) is IovaSpace.Rejection shape) return shape;
        if (!domain.Occupied.FirstOverlapping(range.Start, range.Last, out var hit)) return null;
        if (hit.Value is AllocationOwner owner)
            return new(owner == AllocationOwner.FlushQueue ? "INV-08" : "INV-01", $"{range} overlaps the {owner} allocation {hit.Range}");
        var reserved = domain.Reserved.FirstOrDefault(r => r.Range.Overlaps(range));
        return new("INV-02", reserved is null ? $"{range} overlaps reserved {hit.Range}" : $"{range} overlaps reserved {reserved.Range} ({reserved.Reason})");
    }

    /// <summary>The model's default choice (<see cref="IovaSpace.DefaultFit"/>): highest fit for
    /// size-aligned domains, lowest for the GART/TCE bitmaps; null when nothing fits.</summary>
    public static AddrRange? DefaultFit(ModelDomain domain, IovaSpace.Request request)
    {
        ulong lo = Math.Max(domain.AllocStart, domain.Aperture.Start);
        ulong hi = Math.Min(request.Limit, domain.Aperture.Last);
        if (hi < lo || request.Bytes == 0) return null;
        return domain.Policy == IovaPolicy.SizeAligned
            ? domain.Occupied.HighestFit(lo, hi, request.Bytes, gap => IovaSpace.HighestInGap(gap, request))
            : domain.Occupied.LowestFit(lo, hi, request.Bytes, gap => IovaSpace.LowestInGap(gap, request));
    }

    /// <summary>The lowest allowed bounce span (<see cref="Swiotlb.LowestFit"/>).</summary>
    public static AddrRange? LowestBounce(ModelState state, AddrRange pool, Swiotlb.Request request)
    {
        if (request.Bytes == 0 || request.Alignment == 0) return null;
        ulong hi = Math.Min(pool.Last, request.Limit);
        if (hi < pool.Start) return null;
        return state.BounceSpans.LowestFit(pool.Start, hi, request.Bytes, gap => Swiotlb.LowestInGap(gap, request));
    }

    /// <summary>Why a bounce span is not allowed (<see cref="Swiotlb.WhyNotAllowed"/>), or null.</summary>
    public static string? WhyBounceNotAllowed(ModelState state, AddrRange pool, Swiotlb.Request request, AddrRange span)
    {
        if (Swiotlb.WhyShapeNotAllowed(pool, request, span) is string why) return why;
        return state.BounceSpans.FirstOverlapping(span.Start, span.Last, out var hit)
            ? $"bounce span {span} overlaps live slot {hit.Range}"
            : null;
    }
}
