using DmaVerify.Contracts;
using DmaVerify.Pictures.Svg;
using DmaVerify.Model;

namespace DmaVerify.Tests.ShowSvg;

public class AddressAxisTests
{
    private static readonly UInt128 Space = (UInt128)1 << 64;

    [Fact]
    public void Log2IsExactOnPowersOfTwoAndGrowsInBetween()
    {
        for (int bit = 0; bit <= 64; bit++)
            Assert.Equal(bit, AddressAxis.Log2((UInt128)1 << bit));
        Assert.Equal(12.5, AddressAxis.Log2(0x1800));
        Assert.Equal(12 + 16 / 256.0, AddressAxis.Log2(0x1100)); // the eight bits below the top one, linearly
        Assert.Equal(0, AddressAxis.Log2(0));
    }

    [Fact]
    public void EveryRangeStartsAndEndsOnACutAndTheAxisCoversTheWholeSpace()
    {
        var page = new AddrRange(0xFFFF_E000, 0xFFFF_EFFF);
        var top = new AddrRange(0xFFFF_F000, ulong.MaxValue);
        var axis = AddressAxis.Build([page, top], 100, 1000);
        Assert.Equal([0, 0xFFFF_E000, 0xFFFF_F000, Space], axis.Cuts);
        Assert.Equal(100, axis.X(0));
        Assert.Equal(1100, axis.X(Space));
        Assert.Equal(1100, axis.X(top.End));
    }

    [Fact]
    public void APageNextToTheRestOfThe64BitSpaceStaysVisible()
    {
        var page = new AddrRange(0x1000, 0x1FFF);
        var axis = AddressAxis.Build([page], 0, 1000);
        var (left, right) = axis.Span(page);
        double rest = axis.X(Space) - right;
        // Width grows with log2 of the size: 4 KiB is 1 unit, the ~2^64 rest about 7.5.
        Assert.InRange(right - left, 1000 / 10.0, 1000 / 8.0);
        Assert.InRange(rest / (right - left), 7, 7.6);
    }

    [Fact]
    public void PositionsFollowAddressOrderInsideAndAcrossStretches()
    {
        var axis = AddressAxis.Build([new AddrRange(0x4000_0000, 0x43FF_FFFF), new AddrRange(0x1000, 0x1FFF)], 0, 500);
        UInt128[] addresses = [0, 1, 0xFFF, 0x1000, 0x1800, 0x2000, 0x3FFF_FFFF, 0x4000_0000, 0x4400_0000, ulong.MaxValue, Space];
        var xs = addresses.Select(axis.X).ToList();
        for (int i = 1; i < xs.Count; i++)
            Assert.True(xs[i] >= xs[i - 1], $"{AddressAxis.Label(addresses[i])} is drawn left of {AddressAxis.Label(addresses[i - 1])}");
        Assert.True(axis.X(0x1800) > axis.X(0x1000) && axis.X(0x1800) < axis.X(0x2000));
    }

    [Fact]
    public void TheEndOfTheSpaceIsLabelledAsAPowerOfTwo()
    {
        Assert.Equal("2^64", AddressAxis.Label(Space));
        Assert.Equal("0xFEE00000", AddressAxis.Label(0xFEE0_0000));
    }
}
