using System.Numerics;
using DmaVerify.Contracts;
using DmaVerify.Model;
using DmaVerify.Optimized.Iova;
using FsCheck.Xunit;

namespace DmaVerify.Tests.IovaAllocators;

/// <summary>The pure fit, alignment and magazine arithmetic against brute force and the model.</summary>
[Properties(Arbitrary = [typeof(Arbitraries)])]
public class IovaFitTests
{
    private static readonly ulong[] Interesting =
    [
        0, 1, 2, 3, 4, 5, 7, 8, 9, 31, 32, 33, 63, 64, 65, 127, 128, 1000, 4095, 4096, 4097,
        (1UL << 32) - 1, 1UL << 32, (1UL << 32) + 1, (1UL << 52) - 1, 1UL << 52,
        (1UL << 63) - 1, 1UL << 63, (1UL << 63) + 1, ulong.MaxValue - 1, ulong.MaxValue,
    ];

    [Fact]
    public void LogsAndPowersOfTwoMatchTheBclAndTheModel()
    {
        foreach (ulong v in Interesting)
        {
            if (v >= 1) Assert.Equal(BitOperations.Log2(v), IovaFit.FloorLog2(v));
            int ceil = v <= 1 ? 0 : 64 - BitOperations.LeadingZeroCount(v - 1);
            Assert.Equal(ceil, IovaFit.OrderBase2(v));
            if (v <= 1UL << 63) Assert.Equal(IovaSpace.RoundUpPow2(v), IovaFit.RoundUpPow2(v));
            else Assert.Equal(0UL, IovaFit.RoundUpPow2(v));
        }
        for (ulong v = 1; v < 4096; v++)
        {
            Assert.Equal(BitOperations.Log2(v), IovaFit.FloorLog2(v));
            Assert.Equal(IovaSpace.RoundUpPow2(v), IovaFit.RoundUpPow2(v));
        }
    }

    [Fact]
    public void FastSizeRoundsBelowThirtyTwoOnly()
    {
        Assert.Equal(0UL, IovaFit.FastSize(0));
        Assert.Equal(1UL, IovaFit.FastSize(1));
        Assert.Equal(4UL, IovaFit.FastSize(3));
        Assert.Equal(32UL, IovaFit.FastSize(17));
        Assert.Equal(32UL, IovaFit.FastSize(31));
        Assert.Equal(32UL, IovaFit.FastSize(32));
        Assert.Equal(33UL, IovaFit.FastSize(33));
        Assert.Equal(0x1000UL, IovaFit.AlignDownForSize(0x1FFF, 33 * 64)); // alignment 4096
        Assert.Equal(~63UL, IovaFit.LinuxAlignMask(33, sizeAligned: true));
        Assert.Equal(ulong.MaxValue, IovaFit.LinuxAlignMask(1, sizeAligned: true));
    }

    /// <summary>The largest size-aligned request a gap holds, by trying every start and size.</summary>
    private static ulong BruteCapacity(ulong lo, ulong hi)
    {
        ulong best = 0;
        for (ulong s = 1; s - 1 <= hi - lo; s++)
            if (BruteFits(lo, hi, s, IovaSpace.RoundUpPow2(s))) best = s;
        return best;
    }

    private static bool BruteFits(ulong lo, ulong hi, ulong pages, ulong align)
    {
        for (UInt128 start = lo; start + pages - 1 <= hi; start++)
            if (start % align == 0) return true;
        return false;
    }

    [Fact]
    public void FitCapacityIsExactAndFittingIsMonotone()
    {
        for (ulong lo = 0; lo < 70; lo++)
            for (ulong hi = lo; hi < lo + 80; hi++)
            {
                ulong cap = IovaFit.FitCapacity(lo, hi);
                Assert.Equal(BruteCapacity(lo, hi), cap);
                // Monotone: every size up to the capacity fits size-aligned, none above it.
                for (ulong s = 1; s <= hi - lo + 2; s++)
                    Assert.Equal(s <= cap, BruteFits(lo, hi, s, IovaSpace.RoundUpPow2(s)));
            }
    }

    [Fact]
    public void FitsBelowAndHighestStartAgreeWithBruteForce()
    {
        for (ulong lo = 1; lo < 48; lo++)
            for (ulong hi = lo; hi < lo + 48; hi++)
                for (ulong pages = 1; pages <= 48; pages++)
                    foreach (bool sizeAligned in new[] { false, true })
                    {
                        ulong align = sizeAligned ? IovaSpace.RoundUpPow2(pages) : 1;
                        bool fits = IovaFit.FitsBelow(lo, hi, pages, sizeAligned);
                        Assert.Equal(BruteFits(lo, hi, pages, align), fits);
                        if (!fits) continue;
                        ulong start = IovaFit.HighestStartBelow(hi, pages, sizeAligned);
                        Assert.True(start % align == 0 && start >= lo && start + pages - 1 <= hi);
                        Assert.False(start + align + pages - 1 <= hi, "a higher aligned start exists");
                        Assert.Equal(start, IovaFit.AlignDownForSize(start, sizeAligned ? pages : 1));
                    }
    }

    [Fact]
    public void FitArithmeticIsTotalAtTheEdgesOfTheWord()
    {
        Assert.Equal(0UL, IovaFit.FitCapacity(5, 4));
        Assert.Equal(1UL << 63, IovaFit.FitCapacity(0, ulong.MaxValue));
        Assert.Equal(1UL << 63, IovaFit.FitCapacity(1, ulong.MaxValue));
        Assert.Equal(ulong.MaxValue, IovaFit.GapSize(0, ulong.MaxValue));
        Assert.True(IovaFit.FitsBelow(ulong.MaxValue, ulong.MaxValue, 1, true));
        Assert.False(IovaFit.FitsBelow(ulong.MaxValue, ulong.MaxValue, 2, false));
        Assert.False(IovaFit.FitsBelow(0, 10, 0, false));
        Assert.True(IovaFit.FitsBelow(0, ulong.MaxValue, 1UL << 63, true));
        Assert.True(IovaFit.FitsBelow(1, ulong.MaxValue, 1UL << 63, true));          // [2^63, 2^64 − 1]
        Assert.False(IovaFit.FitsBelow(1, ulong.MaxValue - 1, 1UL << 63, true));
        Assert.Equal(ulong.MaxValue - 7, IovaFit.HighestStartBelow(ulong.MaxValue, 8, true));
        Assert.Equal(ulong.MaxValue - 4, IovaFit.HighestStartBelow(ulong.MaxValue, 5, false));
        // Linux's candidate wraps below zero exactly as C does; the walk rejects it by high < size.
        Assert.Equal(~3UL, IovaFit.LinuxCandidate(3, 4, IovaFit.LinuxAlignMask(4, true)));
    }

    [Fact]
    public void MagazineLimitCheckIsOverflowFree()
    {
        Assert.True(MagazineRules.FitsLimit(0xFF, 1, 0xFF));
        Assert.False(MagazineRules.FitsLimit(0xFF, 2, 0xFF));
        Assert.True(MagazineRules.FitsLimit(0xF0, 16, 0xFF));
        Assert.False(MagazineRules.FitsLimit(0x100, 1, 0xFF));
        Assert.True(MagazineRules.FitsLimit(ulong.MaxValue - 31, 32, ulong.MaxValue));
        Assert.False(MagazineRules.FitsLimit(ulong.MaxValue - 30, 32, ulong.MaxValue - 1));
        Assert.False(MagazineRules.FitsLimit(5, 0, 10));
        for (ulong pfn = 0; pfn < 40; pfn++)
            for (ulong pages = 1; pages <= 32; pages *= 2)
                for (ulong limit = 0; limit < 80; limit++)
                    Assert.Equal(pfn + pages - 1 <= limit, MagazineRules.FitsLimit(pfn, pages, limit));
    }

    [Fact]
    public void SizeClassesAreOrderBase2UpToThirtyTwo()
    {
        Assert.Equal([0, 1, 2, 2, 3, 5, 5], new ulong[] { 1, 2, 3, 4, 5, 17, 32 }.Select(MagazineRules.SizeClass));
        Assert.True(MagazineRules.IsCacheable(32));
        Assert.False(MagazineRules.IsCacheable(33));
        Assert.False(MagazineRules.IsCacheable(0));
    }

    /// <summary>The compare-and-shift logarithms and roundings equal the BCL's for any value.</summary>
    [Property(MaxTest = 2000)]
    public void LogsAndRoundingsMatchTheBclEverywhere(ulong v)
    {
        if (v >= 1) Assert.Equal(BitOperations.Log2(v), IovaFit.FloorLog2(v));
        Assert.Equal(v <= 1 ? 0 : 64 - BitOperations.LeadingZeroCount(v - 1), IovaFit.OrderBase2(v));
        Assert.Equal(v > 1UL << 63 ? 0 : v <= 1 ? 1 : BitOperations.RoundUpToPowerOf2(v), IovaFit.RoundUpPow2(v));
        Assert.Equal(v == 0 ? 0 : v < IovaFit.RoundUpBelow ? BitOperations.RoundUpToPowerOf2(v) : v, IovaFit.FastSize(v));
    }

    /// <summary>The small gaps of the exhaustive tests above, moved anywhere in the 64-bit PFN
    /// space (alignment is absolute, so a gap near 2^63 or 2^64 behaves differently from one near 0).</summary>
    [Property(MaxTest = 300)]
    public void FitArithmeticAgreesWithBruteForceAnywhere(ulong lo, byte width, byte pageChoice, bool sizeAligned)
    {
        ulong hi = lo + Math.Min(width % 80UL, ulong.MaxValue - lo);
        Assert.Equal(BruteCapacity(lo, hi), IovaFit.FitCapacity(lo, hi));
        ulong pages = pageChoice % 80UL + 1;
        ulong align = sizeAligned ? IovaSpace.RoundUpPow2(pages) : 1;
        bool fits = IovaFit.FitsBelow(lo, hi, pages, sizeAligned);
        Assert.Equal(BruteFits(lo, hi, pages, align), fits);
        if (!fits) return;
        ulong start = IovaFit.HighestStartBelow(hi, pages, sizeAligned);
        Assert.True(start % align == 0 && start >= lo && start + (pages - 1) <= hi, $"start {Hex.Format(start)}");
        Assert.True((UInt128)start + align + pages - 1 > hi, "a higher aligned start exists");
    }

    /// <summary>The magazine pop's limit check is pfn + pages − 1 ≤ limit, computed without wrapping.</summary>
    [Property(MaxTest = 2000)]
    public void MagazineLimitCheckIsTheWideComparison(ulong pfn, byte pageClass, ulong limit, sbyte slack)
    {
        ulong pages = 1UL << (pageClass % 6);
        Assert.Equal(pages >= 1 && (UInt128)pfn + pages - 1 <= limit, MagazineRules.FitsLimit(pfn, pages, limit));
        // A range ending a few PFNs around the limit.
        ulong last = slack < 0 ? limit - Math.Min(limit, (ulong)(-slack)) : limit + Math.Min(ulong.MaxValue - limit, (ulong)slack);
        ulong start = last - Math.Min(last, pages - 1);
        Assert.Equal((UInt128)start + pages - 1 <= limit, MagazineRules.FitsLimit(start, pages, limit));
    }
}
