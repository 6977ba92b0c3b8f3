using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>
/// The swiotlb bounce pool as a specification: slots of <see cref="SlotSize"/> bytes, one
/// mapping at most <see cref="MaxMappingSize"/> (IO_TLB_SIZE × IO_TLB_SEGSIZE). A slot span is
/// allowed when it lies in the pool, is aligned, crosses no segment boundary, ends below the
/// limit and overlaps no live slot. Default choice: the lowest such span.
/// </summary>
public static class Swiotlb
{
    public const ulong SlotSize = 2048;
    public const ulong MaxMappingSize = SlotSize * 128;

    public readonly record struct Request(ulong Bytes, ulong Alignment, ulong Limit, ulong BoundaryMask);

    public static string? WhyNotAllowed(AddrRange pool, IEnumerable<BounceSlot> live, Request request, AddrRange span)
    {
        if (WhyShapeNotAllowed(pool, request, span) is string why) return why;
        foreach (var slot in live)
            if (slot.Slot.Overlaps(span)) return $"bounce span {span} overlaps live slot {slot.Slot}";
        return null;
    }

    /// <summary>The rules of <see cref="WhyNotAllowed"/> that do not look at the live slots.</summary>
    public static string? WhyShapeNotAllowed(AddrRange pool, Request request, AddrRange span)
    {
        if (span.Size != request.Bytes) return $"bounce span {span} is not {Hex.Format(request.Bytes)} bytes";
        if (!pool.Contains(span)) return $"bounce span {span} is outside the pool {pool}";
        if (span.Start % request.Alignment != 0) return $"bounce span {span} is not aligned to {Hex.Format(request.Alignment)}";
        if (span.Last > request.Limit) return $"bounce span {span} is above the device limit {Hex.Format(request.Limit)}";
        if (IovaSpace.CrossesBoundary(span, request.BoundaryMask)) return $"bounce span {span} crosses a segment boundary";
        return null;
    }

    /// <summary>The lowest allowed span inside one free gap of the pool (boundary and alignment
    /// honoured; the caller clips the gap to the pool and the limit).</summary>
    public static AddrRange? LowestInGap(AddrRange gap, Request request)
    {
        ulong start = IovaSpace.AlignUp(gap.Start, request.Alignment, out bool overflow);
        while (!overflow && (UInt128)start + request.Bytes - 1 <= gap.Last)
        {
            var span = new AddrRange(start, start + (request.Bytes - 1));
            if (!IovaSpace.CrossesBoundary(span, request.BoundaryMask)) return span;
            ulong next = span.Start | request.BoundaryMask;
            if (next == ulong.MaxValue) return null;
            start = IovaSpace.AlignUp(next + 1, request.Alignment, out overflow);
        }
        return null;
    }

    public static AddrRange? LowestFit(AddrRange pool, IEnumerable<BounceSlot> live, Request request)
    {
        var taken = live.Select(s => s.Slot).OrderBy(s => s.Start).ToList();
        ulong start = IovaSpace.AlignUp(pool.Start, request.Alignment, out bool overflow);
        while (!overflow && (UInt128)start + request.Bytes - 1 <= pool.Last)
        {
            var span = new AddrRange(start, start + (request.Bytes - 1));
            if (span.Last > request.Limit) return null;
            AddrRange? blocker = taken.Cast<AddrRange?>().FirstOrDefault(t => t!.Value.Overlaps(span));
            if (blocker is AddrRange b)
            {
                if (b.Last == ulong.MaxValue) return null;
                start = IovaSpace.AlignUp(b.Last + 1, request.Alignment, out overflow);
                continue;
            }
            if (IovaSpace.CrossesBoundary(span, request.BoundaryMask))
            {
                ulong next = span.Start | request.BoundaryMask;
                if (next == ulong.MaxValue) return null;
                start = IovaSpace.AlignUp(next + 1, request.Alignment, out overflow);
                continue;
            }
            return span;
        }
        return null;
    }
}
