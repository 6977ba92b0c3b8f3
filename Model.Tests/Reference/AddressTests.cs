using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Tests;

public class AddressTests
{
    [Fact]
    public void RangeMayEndAtTwoToTheSixtyFour()
    {
        Assert.True(AddrRange.TryFromLength(0xFFFF_FFFF_FFFF_F000, 0x1000, out var r));
        Assert.Equal(ulong.MaxValue, r.Last);
        Assert.Equal((UInt128)1 << 64, r.End);
    }

    [Fact]
    public void RangeThatWrapsOrIsEmptyIsRefused()
    {
        Assert.False(AddrRange.TryFromLength(0xFFFF_FFFF_FFFF_F000, 0x1001, out _));
        Assert.False(AddrRange.TryFromLength(0x1000, 0, out _));
    }

    [Fact]
    public void EveryPresetBuilds()
    {
        foreach (var name in Presets.Names.Concat(Presets.Variants))
        {
            Assert.True(Presets.TryGet(name, out var p, out var error), error);
            Assert.NotEmpty(p.Devices);
        }
        Assert.False(Presets.TryGet("nope", out _, out var err));
        Assert.Contains("unknown preset", err);
    }
}
