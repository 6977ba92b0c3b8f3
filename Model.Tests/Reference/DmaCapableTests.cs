using DmaVerify.Contracts;
using DmaVerify.Model;
using FsCheck.Xunit;

namespace DmaVerify.Tests.Model;

/// <summary>
/// dma_capable as the model states it (docs/linux-facts.md#dma_capable,
/// Model/Spec/DmaRules.DmaCapable): end = addr + size - 1 ≤ min_not_zero(mask, bus_limit); unlike
/// the kernel's literal unsigned arithmetic, size 0 and a range that wraps past 2^64 are never
/// capable, nor is DMA_MAPPING_ERROR.
/// </summary>
[Properties(Arbitrary = [typeof(Arbitraries)])]
public class DmaCapableTests
{
    private const ulong Mask32 = 0xFFFF_FFFF, All = ulong.MaxValue;

    [Theory]
    // size 0 (the kernel would compute end = addr - 1 and pass)
    [InlineData(0x1000UL, 0UL, Mask32, 0UL, false)]
    [InlineData(0UL, 0UL, All, 0UL, false)]
    // end exactly at the mask: 0xFFFF_F000 + 0x1000 - 1 = 0xFFFF_FFFF
    [InlineData(0xFFFF_F000UL, 0x1000UL, Mask32, 0UL, true)]
    // one byte over: end 0x1_0000_0000
    [InlineData(0xFFFF_F000UL, 0x1001UL, Mask32, 0UL, false)]
    // a single byte at the mask, and one just past it
    [InlineData(0xFFFF_FFFFUL, 1UL, Mask32, 0UL, true)]
    [InlineData(0x1_0000_0000UL, 1UL, Mask32, 0UL, false)]
    // the whole 32-bit space
    [InlineData(0UL, 0x1_0000_0000UL, Mask32, 0UL, true)]
    // wrap: 0xFFFF_FFFF_FFFF_F000 + 0x2000 - 1 wraps to 0xFFF (which the kernel would let pass)
    [InlineData(0xFFFF_FFFF_FFFF_F000UL, 0x2000UL, All, 0UL, false)]
    [InlineData(0xFFFF_FFFF_FFFF_F000UL, 0x2000UL, Mask32, 0UL, false)]
    // ends exactly at 2^64 - 1 with an all-ones mask: no wrap → capable
    [InlineData(0xFFFF_FFFF_FFFF_F000UL, 0x1000UL, All, 0UL, true)]
    // the whole 64-bit space minus the last byte, from 0
    [InlineData(0UL, All, All, 0UL, true)]
    // DMA_MAPPING_ERROR, even for one byte under an all-ones mask
    [InlineData(All, 1UL, All, 0UL, false)]
    // bus limit 0 = none: the mask alone decides
    [InlineData(0x1_0000_0000UL, 0x1000UL, All, 0UL, true)]
    // a bus limit below the mask decides
    [InlineData(0x1_0000_0000UL, 0x1000UL, All, 0xFFFF_FFFFUL, false)]
    [InlineData(0x3FFF_F000UL, 0x1000UL, All, 0x3FFF_FFFFUL, true)]
    [InlineData(0x3FFF_F001UL, 0x1000UL, All, 0x3FFF_FFFFUL, false)]
    // a mask below the bus limit decides
    [InlineData(0x1_0000_0000UL, 0x1000UL, Mask32, 0xFF_FFFF_FFFFUL, false)]
    [InlineData(0xFFFF_F000UL, 0x1000UL, Mask32, 0xFF_FFFF_FFFFUL, true)]
    public void Capable(ulong addr, ulong size, ulong mask, ulong busLimit, bool expected) =>
        Assert.Equal(expected, DmaRules.DmaCapable(addr, size, mask, busLimit));

    [Theory]
    [InlineData(0UL, 0UL, 0UL)]
    [InlineData(0UL, 5UL, 5UL)]
    [InlineData(5UL, 0UL, 5UL)]
    [InlineData(3UL, 5UL, 3UL)]
    [InlineData(All, 0x3FFF_FFFFUL, 0x3FFF_FFFFUL)]
    public void MinNotZero(ulong a, ulong b, ulong expected) => Assert.Equal(expected, DmaRules.MinNotZero(a, b));

    [Fact]
    public void MaskValidity()
    {
        // DMA_BIT_MASK(n) with 24 ≤ n ≤ 64.
        Assert.True(DeviceConfig.IsValidMask(0xFF_FFFF));
        Assert.True(DeviceConfig.IsValidMask(All));
        Assert.False(DeviceConfig.IsValidMask(0x7F_FFFF));
        Assert.False(DeviceConfig.IsValidMask(0xFFFF_FFFE));
        Assert.False(DeviceConfig.IsValidMask(0));
    }

    /// <summary>The model's rule is the range check in wide arithmetic: non-empty, not
    /// DMA_MAPPING_ERROR, last byte at most min_not_zero(mask, bus limit), for any values, and for
    /// buffers whose last byte sits a few bytes around the limit (also the all-ones limit, where
    /// the last byte can be 2^64 − 1 itself).</summary>
    [Property(MaxTest = 1000)]
    public void CapableIsTheRangeCheckInWideArithmetic(ulong addr, ulong size, ulong mask, ulong busLimit, sbyte slack, byte length)
    {
        foreach (var (m, b) in new[] { (mask, busLimit), (All, 0UL) })
        {
            ulong limit = m == 0 ? b : b == 0 ? m : Math.Min(m, b);
            bool Expected(ulong a, ulong s) => s != 0 && a != All && (UInt128)a + s - 1 <= limit;
            Assert.Equal(Expected(addr, size), DmaRules.DmaCapable(addr, size, m, b));
            ulong last = slack < 0 ? limit - Math.Min(limit, (ulong)(-slack)) : limit + Math.Min(All - limit, (ulong)slack);
            ulong len = length % 32UL + 1;
            ulong start = last - Math.Min(last, len - 1);
            Assert.Equal(Expected(start, len), DmaRules.DmaCapable(start, len, m, b));
        }
    }
}
