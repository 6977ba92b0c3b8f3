using DmaVerify.Contracts;
using DmaVerify.Model;
using FsCheck.Xunit;

namespace DmaVerify.Tests.Model;

/// <summary>
/// The model's placement inside one free gap (IovaSpace.HighestInGap / LowestInGap, which decide
/// the model's default IOVA and what completeness, INV-11, accepts) against trying every aligned
/// start: a gap of up to 64 granules anywhere in the 64-bit space, any size-and-alignment
/// request, with or without a segment boundary.
/// </summary>
[Properties(Arbitrary = [typeof(Arbitraries)], MaxTest = 2000)]
public class IovaSpaceProperties
{
    private const ulong Granule = 0x1000;

    /// <summary>A gap of 1 to 64 granules (often 1 to 8), placed anywhere or just below a
    /// boundary-unit edge, and a request of 1 to 16 granules with its alignment and boundary.</summary>
    private static (AddrRange Gap, IovaSpace.Request Request) Case(ulong start, byte width, byte pages, byte alignShift, byte boundaryShift, byte edge)
    {
        bool nearEdge = edge % 2 == 1;
        ulong boundary = boundaryShift % 4 == 0 ? ulong.MaxValue : (Granule << (boundaryShift % 9)) - 1;
        ulong granules = width < 128 ? width % 8UL + 1 : width % 64UL + 1;
        ulong gapStart = start & ~(Granule - 1);
        if (nearEdge && boundary != ulong.MaxValue)
            gapStart = (gapStart | boundary) - Math.Min(gapStart | boundary, (ulong)(edge / 2 % 17) * Granule) & ~(Granule - 1);
        var gap = new AddrRange(gapStart, gapStart + Math.Min(granules * Granule - 1, ulong.MaxValue - gapStart));
        ulong alignment = Granule << (alignShift % 7);
        return (gap, new IovaSpace.Request((pages % 16UL + 1) * Granule, alignment, ulong.MaxValue, boundary));
    }

    /// <summary>Every allowed placement in the gap, lowest first.</summary>
    private static IEnumerable<AddrRange> Allowed(AddrRange gap, IovaSpace.Request request)
    {
        UInt128 first = ((UInt128)gap.Start + request.Alignment - 1) / request.Alignment * request.Alignment;
        for (UInt128 s = first; s + request.Bytes - 1 <= gap.Last; s += request.Alignment)
        {
            var r = AddrRange.FromLength((ulong)s, request.Bytes);
            if (!IovaSpace.CrossesBoundary(r, request.BoundaryMask)) yield return r;
        }
    }

    [Property]
    public void HighestInGapIsTheHighestAllowedPlacement(ulong start, byte width, byte pages, byte alignShift, byte boundaryShift, byte edge)
    {
        var (gap, request) = Case(start, width, pages, alignShift, boundaryShift, edge);
        var expected = Allowed(gap, request).Select(r => (AddrRange?)r).LastOrDefault();
        Assert.Equal(expected, IovaSpace.HighestInGap(gap, request));
    }

    [Property]
    public void LowestInGapIsTheLowestAllowedPlacement(ulong start, byte width, byte pages, byte alignShift, byte boundaryShift, byte edge)
    {
        var (gap, request) = Case(start, width, pages, alignShift, boundaryShift, edge);
        var expected = Allowed(gap, request).Select(r => (AddrRange?)r).FirstOrDefault();
        Assert.Equal(expected, IovaSpace.LowestInGap(gap, request));
    }
}
