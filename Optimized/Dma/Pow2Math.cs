using DmaVerify.Optimized.PageTables;

namespace DmaVerify.Optimized.Dma;

/// <summary>
/// Address arithmetic of the DMA paths, written the way the kernel writes it for power-of-two
/// sizes (ALIGN, round_down, min_not_zero): masks, not division. Every alignment Optimized
/// uses is a granule, a page size or a swiotlb slot, so each is a power of two.
/// </summary>
internal static class Pow2Math
{
    /// <summary>round_down(v, a) for a power-of-two <paramref name="alignment"/>.</summary>
    public static ulong AlignDown(ulong v, ulong alignment) => v & ~(alignment - 1);

    /// <summary>ALIGN(v, a); <paramref name="overflow"/> when the result would pass 2^64.</summary>
    public static ulong AlignUp(ulong v, ulong alignment, out bool overflow)
    {
        ulong mask = alignment - 1;
        overflow = v > ulong.MaxValue - mask && (v & mask) != 0;
        return unchecked(v + mask) & ~mask;
    }

    /// <summary>ALIGN for sizes known not to overflow (a mapping length plus an offset).</summary>
    public static ulong AlignUp(ulong v, ulong alignment) => AlignUp(v, alignment, out _);

    /// <summary>roundup_pow_of_two (1 for 0 and 1).</summary>
    public static ulong RoundUpPow2(ulong v) => v <= 1 ? 1 : Bits.HighestSetBit(v - 1) << 1;

    /// <summary>min_not_zero: 0 means "no limit".</summary>
    public static ulong MinNotZero(ulong a, ulong b) => a == 0 ? b : b == 0 ? a : Math.Min(a, b);

    /// <summary>Whether [start, start + length) crosses a dma_get_seg_boundary boundary: the
    /// first and last byte differ above the mask. An all-ones mask has no boundary.</summary>
    public static bool CrossesBoundary(ulong start, ulong length, ulong boundaryMask) =>
        length != 0 && ((start ^ (start + (length - 1))) & ~boundaryMask) != 0;
}
