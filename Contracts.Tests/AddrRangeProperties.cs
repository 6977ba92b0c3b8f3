using DmaVerify.Contracts;
using FsCheck.Xunit;

namespace DmaVerify.Tests.Contracts;

/// <summary>AddrRange, the inclusive range every layer uses, against arithmetic in 128 bits.</summary>
[Properties(Arbitrary = [typeof(Arbitraries)])]
public class AddrRangeProperties
{
    [Property(MaxTest = 1000)]
    public void TryFromLengthAcceptsExactlyTheRangesBelowTwoToTheSixtyFour(ulong start, ulong length)
    {
        UInt128 end = (UInt128)start + length;
        bool fits = length != 0 && end <= (UInt128)1 << 64;
        Assert.Equal(fits, AddrRange.TryFromLength(start, length, out var range));
        if (!fits) return;
        Assert.Equal(start, range.Start);
        Assert.Equal((UInt128)length, range.Size);
        Assert.Equal(end, range.End);
        Assert.Equal(end - 1, (UInt128)range.Last);
    }

    [Property(MaxTest = 1000)]
    public void IntersectIsWhatBothContain(AddrRange a, AddrRange b)
    {
        var both = a.Intersect(b);
        Assert.Equal(both, b.Intersect(a));
        Assert.Equal(a.Overlaps(b), both is not null);
        Assert.Equal(a.Overlaps(b), b.Overlaps(a));
        if (both is not AddrRange i)
        {
            Assert.True(a.Last < b.Start || b.Last < a.Start);
            return;
        }
        Assert.True(a.Contains(i) && b.Contains(i));
        // Nothing of both lies outside: the bytes next to the intersection are outside a or b.
        Assert.True(i.Start == 0 || !a.Contains(i.Start - 1) || !b.Contains(i.Start - 1));
        Assert.True(i.Last == ulong.MaxValue || !a.Contains(i.Last + 1) || !b.Contains(i.Last + 1));
    }

    [Property(MaxTest = 1000)]
    public void ContainsIsDecidedByTheEnds(AddrRange outer, AddrRange inner, ulong address)
    {
        Assert.Equal(outer.Contains(inner.Start) && outer.Contains(inner.Last), outer.Contains(inner));
        Assert.Equal(outer.Start <= address && address <= outer.Last, outer.Contains(address));
    }
}
