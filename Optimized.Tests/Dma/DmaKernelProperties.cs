using DmaVerify.Contracts;
using DmaVerify.Optimized.Dma;
using DmaVerify.Optimized.Dma.Kernels;
using FsCheck.Xunit;

namespace DmaVerify.Tests.Dma;

/// <summary>
/// The pure arithmetic of the optimized DMA paths (Optimized/Dma/Kernels, Pow2Math) against its
/// definition written in 128-bit arithmetic, where nothing wraps. The kernels are written
/// overflow-free in 64 bits; these properties pin them to what they mean, at random values and
/// right at the limits (a <c>slack</c> of a few bytes either side of the edge).
/// </summary>
[Properties(Arbitrary = [typeof(Arbitraries)], MaxTest = 1000)]
public class DmaKernelProperties
{
    private static readonly UInt128 TwoTo64 = (UInt128)1 << 64;

    private static ulong MinNotZero(ulong a, ulong b) => a == 0 ? b : b == 0 ? a : Math.Min(a, b);

    /// <summary>dma_capable's meaning: a non-empty range, not DMA_MAPPING_ERROR, whose last byte
    /// (computed without wrapping) is at most min_not_zero(mask, bus limit).</summary>
    private static bool Capable(ulong addr, ulong size, ulong mask, ulong busLimit) =>
        size != 0 && addr != ulong.MaxValue && (UInt128)addr + size - 1 <= MinNotZero(mask, busLimit);

    /// <summary>A value <paramref name="slack"/> bytes from <paramref name="edge"/>, kept in 64 bits.</summary>
    private static ulong Near(UInt128 edge, sbyte slack)
    {
        UInt128 v = slack < 0 ? (edge >= (UInt128)(-slack) ? edge - (UInt128)(-slack) : 0) : edge + (UInt128)slack;
        return v >= TwoTo64 ? ulong.MaxValue : (ulong)v;
    }

    private static ulong DmaBitMask(byte bits) => bits % 41 + 24 == 64 ? ulong.MaxValue : (1UL << (bits % 41 + 24)) - 1;

    /// <summary>Edges the random draws reach too rarely to pin (mutants that survived the
    /// kernels' mutation run, docs/mutation.md): the known answer at each.</summary>
    [Theory]
    [InlineData(0UL, 0UL, ulong.MaxValue, 0UL, false)]                          // empty: never capable
    [InlineData(ulong.MaxValue, 1UL, ulong.MaxValue, 0UL, false)]               // DMA_MAPPING_ERROR itself
    [InlineData(ulong.MaxValue - 0xFFF, 0x1000UL, ulong.MaxValue, 0UL, true)]   // last byte exactly 2^64 - 1
    [InlineData(ulong.MaxValue - 0xFFF, 0x1001UL, ulong.MaxValue, 0UL, false)]  // one byte more wraps
    public void DmaCapableAtTheEdges(ulong addr, ulong size, ulong mask, ulong busLimit, bool capable) =>
        Assert.Equal(capable, DmaWindow.IsCapable(addr, size, mask, busLimit));

    [Theory]
    [InlineData(0UL, 5UL, 5UL)]
    [InlineData(5UL, 0UL, 5UL)]
    [InlineData(0UL, 0UL, 0UL)]
    [InlineData(3UL, 5UL, 3UL)]
    [InlineData(5UL, 3UL, 3UL)]
    public void MinNotZeroKnownAnswers(ulong a, ulong b, ulong min) => Assert.Equal(min, DmaWindow.MinNotZero(a, b));

    /// <summary>Linux pads an sg entry only when <c>pad_len &lt; s_length - 1</c>: a pad of
    /// exactly length - 1 bytes is not inserted.</summary>
    [Theory]
    [InlineData(0x1001UL, 0UL)]
    [InlineData(0x1002UL, 0x1000UL)]
    public void PadBeforeNeedsThePadShorterThanTheEntryLessOne(ulong length, ulong pad) =>
        Assert.Equal(pad, SgRules.PadBefore(index: 1, boundaryMask: 0xFFFF, iovaLen: 0xF000, length));

    [Property]
    public void DmaCapableIsTheRangeCheckWithoutWrapping(ulong addr, ulong size, ulong busLimit, byte maskBits, sbyte slack)
    {
        ulong mask = DmaBitMask(maskBits);
        Assert.Equal(Capable(addr, size, mask, busLimit), DmaWindow.IsCapable(addr, size, mask, busLimit));
        // The last byte right at the limit, a few bytes below or above it.
        ulong limit = MinNotZero(mask, busLimit);
        ulong last = Near(limit, slack);
        ulong len = size % 0x10_0000 + 1;
        ulong start = last >= len - 1 ? last - (len - 1) : 0;
        Assert.Equal(Capable(start, len, mask, busLimit), DmaWindow.IsCapable(start, len, mask, busLimit));
    }

    /// <summary>A TCE bypass through the dynamic DMA window is dma_capable at phys + offset, and
    /// nothing when that sum wraps.</summary>
    [Property]
    public void DdwBypassIsCapabilityAtTheWindowAddress(ulong phys, ulong length, ulong offset, ulong busLimit, byte maskBits)
    {
        ulong mask = DmaBitMask(maskBits);
        bool expected = (UInt128)phys + offset < TwoTo64 && Capable(phys + offset, length, mask, busLimit);
        Assert.Equal(expected, DmaWindow.InDdwWindow(phys, length, offset, mask, busLimit));
    }

    /// <summary>A buffer and the GART aperture share a byte exactly when their inclusive ranges
    /// meet; an empty buffer shares none; one that would wrap runs to 2^64 − 1.</summary>
    [Property]
    public void ApertureOverlapIsRangeOverlap(ulong phys, ulong length, AddrRange aperture, bool nearStart, sbyte slack)
    {
        bool Expected(ulong p, ulong l) =>
            l != 0 && p <= aperture.Last && aperture.Start <= (ulong)UInt128.Min((UInt128)p + l - 1, ulong.MaxValue);
        Assert.Equal(Expected(phys, length), DmaWindow.OverlapsAperture(phys, length, aperture.Start, aperture.Last));
        // A buffer that ends just before, at or after the aperture's start, or starts around its end.
        ulong len = length % 0x4000 + 1;
        ulong lastByte = Near(aperture.Start, slack);
        ulong p = nearStart ? lastByte - Math.Min(len - 1, lastByte) : Near(aperture.Last, slack);
        Assert.Equal(Expected(p, len), DmaWindow.OverlapsAperture(p, len, aperture.Start, aperture.Last));
        if (aperture.Last > aperture.Start)
            Assert.False(DmaWindow.OverlapsAperture(phys, length, aperture.Last, aperture.Start), "an inverted aperture overlaps nothing");
    }

    /// <summary>round_down and ALIGN for a power of two, and ALIGN's overflow flag exactly when
    /// the true result reaches 2^64; also around the last multiple below 2^64.</summary>
    [Property]
    public void AlignmentIsTheNearestMultiple(ulong v, byte shift, sbyte slack)
    {
        ulong a = 1UL << (shift % 64);
        foreach (ulong x in new[] { v, Near(TwoTo64 - a, slack) })
        {
            UInt128 down = x - x % a;
            UInt128 up = down == x ? x : down + a;
            Assert.Equal((ulong)down, Pow2Math.AlignDown(x, a));
            ulong aligned = Pow2Math.AlignUp(x, a, out bool overflow);
            Assert.True((up >= TwoTo64) == overflow, $"ALIGN({Hex.Format(x)}, {Hex.Format(a)}): overflow {overflow}");
            Assert.Equal((ulong)(up % TwoTo64), aligned);
        }
    }

    /// <summary>[start, start + length) crosses a segment boundary when its first and last byte
    /// lie in different boundary units (ranges that do not wrap; the callers' ranges never do).</summary>
    [Property]
    public void BoundaryCrossingComparesTheFirstAndLastUnit(ulong start, ulong length, byte boundaryBits, sbyte slack)
    {
        int bits = boundaryBits % 65;
        ulong mask = bits == 64 ? ulong.MaxValue : (1UL << bits) - 1;
        UInt128 unit = (UInt128)mask + 1;
        bool Expected(ulong s, ulong l) => l != 0 && s / unit != ((UInt128)s + l - 1) / unit;
        ulong len = (UInt128)start + length <= TwoTo64 ? length : (ulong)(TwoTo64 - start);
        Assert.Equal(Expected(start, len), Pow2Math.CrossesBoundary(start, len, mask));
        // A range ending a few bytes around the next boundary.
        ulong unitStart = (ulong)(start / unit * unit);
        if ((UInt128)unitStart + unit < TwoTo64)
        {
            ulong l2 = Near(unit, slack);
            Assert.Equal(Expected(unitStart, l2), Pow2Math.CrossesBoundary(unitStart, l2, mask));
        }
    }

    /// <summary>dma-iommu's pad: the distance from the running length to the next boundary.</summary>
    [Property]
    public void BoundaryPadReachesTheNextBoundary(ulong iovaLen, byte boundaryBits)
    {
        int bits = boundaryBits % 65;
        ulong mask = bits == 64 ? ulong.MaxValue : (1UL << bits) - 1;
        UInt128 unit = (UInt128)mask + 1;
        Assert.Equal((ulong)((unit - iovaLen % unit) % unit), SgRules.BoundaryPad(mask, iovaLen));
    }

    /// <summary>Granule-aligned entries no longer than a boundary unit: an entry after the first
    /// is padded exactly when it would cross the next boundary, and then starts on it.</summary>
    [Property]
    public void PaddingIsExactlyWhatKeepsAnEntryInsideOneUnit(ushort lenPages, ushort entryPages, byte boundaryShift, int index)
    {
        const ulong granule = 0x1000;
        int shift = 12 + boundaryShift % 20;
        ulong mask = (1UL << shift) - 1;
        ulong unit = mask + 1;
        ulong iovaLen = lenPages * granule;
        ulong length = (entryPages % (unit / granule) + 1) * granule;
        int i = index & 3;
        bool wouldCross = (iovaLen & ~mask) != ((iovaLen + length - 1) & ~mask);
        ulong pad = SgRules.PadBefore(i, mask, iovaLen, length);
        Assert.Equal(i > 0 && wouldCross ? (unit - iovaLen % unit) % unit : 0, pad);
        if (i > 0)
            Assert.True(((iovaLen + pad) & ~mask) == ((iovaLen + pad + length - 1) & ~mask), "the padded entry still crosses");
    }

    /// <summary>__finalise_sg's merge rule, with the length sum computed without wrapping.</summary>
    [Property]
    public void AnEntryJoinsTheSegmentOnlyUnderFinaliseSgsRule(ulong current, ulong offset, ulong dma, byte boundaryBits, ulong maxSegment, ulong length, sbyte slack)
    {
        int bits = boundaryBits % 65;
        ulong mask = bits == 64 ? ulong.MaxValue : (1UL << bits) - 1;
        bool Expected(ulong cur, ulong off, ulong l) =>
            cur != 0 && off == 0 && (dma & mask) != 0 && (UInt128)cur + l <= maxSegment;
        Assert.Equal(Expected(current, offset, length), SgRules.JoinsSegment(current, offset, dma, mask, maxSegment, length));
        // Right at max_segment_size: the entry fills the segment exactly, or overshoots by a little.
        ulong cur = current % 0x10_0000 + 1;
        ulong l = maxSegment >= cur ? Near(maxSegment - cur, slack) : length;
        Assert.Equal(Expected(cur, 0, l), SgRules.JoinsSegment(cur, 0, dma, mask, maxSegment, l));
    }

    /// <summary>The GART's chunk merge: both sides page aligned at the join and the chunk within
    /// max_segment_size, computed without wrapping.</summary>
    [Property]
    public void GartMergesPageAlignedChunksWithinTheSegmentLimit(ulong previousEnd, ulong phys, ulong chunk, ulong length, ulong maxSegment, bool aligned, sbyte slack)
    {
        if (aligned) { previousEnd &= ~0xFFFUL; phys &= ~0xFFFUL; }
        bool Expected(ulong c, ulong l) => previousEnd % 0x1000 == 0 && phys % 0x1000 == 0 && (UInt128)c + l <= maxSegment;
        Assert.Equal(Expected(chunk, length), SgRules.GartJoinsChunk(previousEnd, phys, chunk, length, maxSegment));
        ulong c = chunk % 0x10_0000;
        ulong l = maxSegment >= c ? Near(maxSegment - c, slack) : length;
        Assert.Equal(Expected(c, l), SgRules.GartJoinsChunk(previousEnd, phys, c, l, maxSegment));
    }
}
