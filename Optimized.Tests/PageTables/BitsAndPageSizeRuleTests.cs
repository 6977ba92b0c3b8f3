using DmaVerify.Contracts;
using DmaVerify.Model;
using DmaVerify.Optimized.PageTables;
using FsCheck.Xunit;
using BitOperations = System.Numerics.BitOperations;

namespace DmaVerify.Tests.PageTables;

[Properties(Arbitrary = [typeof(Arbitraries)])]
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
        for (int n = -1; n <= 70; n++)
            Assert.Equal(n <= 0 ? 0 : n >= 64 ? ulong.MaxValue : (1UL << n) - 1, Bits.LowMask(n));
    }

    /// <summary>The loop- and intrinsic-free helpers (what the Z3 lifter reads) equal the BCL's.</summary>
    [Property(MaxTest = 2000)]
    public void BitHelpersAgreeWithTheBcl(ulong x)
    {
        Assert.Equal(BitOperations.PopCount(x), Bits.PopCount(x));
        Assert.Equal(x == 0 ? 0 : 1UL << (63 - BitOperations.LeadingZeroCount(x)), Bits.HighestSetBit(x));
        Assert.Equal(x == 0 ? 0 : 1UL << BitOperations.TrailingZeroCount(x), Bits.LowestSetBit(x));
        Assert.Equal(BitOperations.TrailingZeroCount(~x), Bits.FirstZeroBit(x));
        if (x != 0) Assert.Equal(63 - BitOperations.LeadingZeroCount(x), Bits.Log2(Bits.HighestSetBit(x)));
        Assert.Equal(BitOperations.IsPow2(x), Bits.IsPowerOfTwo(x));
    }

    [Fact]
    public void ChooseAtKnownPoints()
    {
        ulong[] bitmaps =
        [
            Formats.VtdSecondStage().PageSizes, Formats.AmdV1().PageSizes, Formats.ArmLpae(1UL << 14).PageSizes,
            Formats.ArmLpae(1UL << 16).PageSizes, 1UL << 12, 0, ulong.MaxValue, 1UL << 63, (1UL << 12) | (1UL << 63),
        ];
        foreach (ulong sizes in bitmaps)
            Assert.Equal(DmaRules.ChoosePageSize(sizes, 0x20_0000, 0x4000_0000, 0x4020_0000), PageSizeRule.Choose(sizes, 0x20_0000, 0x4000_0000, 0x4020_0000));
        Assert.Equal(0UL, PageSizeRule.Choose(ulong.MaxValue, 0, 0, 0));
        Assert.Equal(1UL << 63, PageSizeRule.Choose(ulong.MaxValue, 0, 0, ulong.MaxValue));
        Assert.Equal(1UL << 30, PageSizeRule.Choose(Formats.VtdSecondStage().PageSizes, 0, 0, ulong.MaxValue));
    }

    /// <summary>The bit computation equals the model's brute-force iommu_pgsize for every page-size
    /// bitmap of the formats and for arbitrary ones, at any addresses and remaining size.</summary>
    [Property(MaxTest = 20_000)]
    public void ChooseEqualsTheModelsBruteForceRule(ulong iova, ulong pa, ulong remaining, ulong anyBitmap, int pick)
    {
        ulong[] bitmaps =
        [
            Formats.VtdSecondStage().PageSizes, Formats.AmdV1().PageSizes, Formats.ArmLpae(1UL << 14).PageSizes,
            Formats.ArmLpae(1UL << 16).PageSizes, 1UL << 12, anyBitmap,
        ];
        ulong sizes = bitmaps[(int)((uint)pick % (uint)bitmaps.Length)];
        Assert.Equal(DmaRules.ChoosePageSize(sizes, iova, pa, remaining), PageSizeRule.Choose(sizes, iova, pa, remaining));
    }
}
