using DmaVerify.Contracts;
using DmaVerify.Model;
using DmaVerify.Optimized.PageTables;

namespace DmaVerify.Tests.PageTables;

public class BitsAndPageSizeRuleTests
{
    [Fact]
    public void BitHelpersAtTheIntegerLimits()
    {
        Assert.Equal(0UL, Bits.LowestSetBit(0));
        Assert.Equal(0UL, Bits.HighestSetBit(0));
        Assert.Equal(1UL << 63, Bits.HighestSetBit(ulong.MaxValue));
        Assert.Equal(1UL, Bits.LowestSetBit(ulong.MaxValue));
        Assert.Equal(0x1000UL, Bits.LowestSetBit(0xABC_D000));
        Assert.Equal(0x800_0000UL, Bits.HighestSetBit(0xABC_D000));
        Assert.Equal(64, Bits.PopCount(ulong.MaxValue));
        Assert.Equal(0, Bits.Log2(1));
        Assert.Equal(63, Bits.Log2(1UL << 63));
        Assert.Equal(12, Bits.FirstZeroBit(0xFFF));
        Assert.Equal(64, Bits.FirstZeroBit(ulong.MaxValue));
        Assert.Equal(0, Bits.FirstZeroBit(0));
        Assert.Equal(ulong.MaxValue, Bits.LowMask(64));
        Assert.Equal(0UL, Bits.LowMask(0));
        Assert.Equal(0xFFFUL, Bits.LowMask(12));
        var rng = new Random(7);
        for (int i = 0; i < 10_000; i++)
        {
            ulong x = (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 40);
            Assert.Equal(System.Numerics.BitOperations.PopCount(x), Bits.PopCount(x));
            if (x != 0) Assert.Equal(63 - System.Numerics.BitOperations.LeadingZeroCount(x), Bits.Log2(Bits.HighestSetBit(x)));
        }
    }

    [Fact]
    public void ChooseEqualsTheModelsBruteForceRule()
    {
        ulong[] bitmaps =
        [
            Formats.VtdSecondStage().PageSizes, Formats.AmdV1().PageSizes, Formats.ArmLpae(1UL << 14).PageSizes,
            Formats.ArmLpae(1UL << 16).PageSizes, 1UL << 12, 0, ulong.MaxValue, 1UL << 63, (1UL << 12) | (1UL << 63),
        ];
        var rng = new Random(11);
        for (int i = 0; i < 200_000; i++)
        {
            ulong sizes = bitmaps[i % bitmaps.Length];
            ulong iova = RandomAddress(rng), pa = RandomAddress(rng), remaining = RandomAddress(rng);
            Assert.Equal(DmaRules.ChoosePageSize(sizes, iova, pa, remaining), PageSizeRule.Choose(sizes, iova, pa, remaining));
        }
        Assert.Equal(0UL, PageSizeRule.Choose(ulong.MaxValue, 0, 0, 0));
        Assert.Equal(1UL << 63, PageSizeRule.Choose(ulong.MaxValue, 0, 0, ulong.MaxValue));
        Assert.Equal(1UL << 30, PageSizeRule.Choose(Formats.VtdSecondStage().PageSizes, 0, 0, ulong.MaxValue));
    }

    /// <summary>Addresses with zero prefixes, all-ones prefixes and random alignment.</summary>
    private static ulong RandomAddress(Random rng)
    {
        ulong x = (ulong)rng.NextInt64() << 1 ^ (ulong)rng.Next(2);
        return rng.Next(4) switch
        {
            0 => x >> rng.Next(64),
            1 => x | ~Bits.LowMask(rng.Next(64)),
            2 => (x >> rng.Next(64)) << rng.Next(64),
            _ => x,
        };
    }
}
