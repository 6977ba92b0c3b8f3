namespace DmaVerify.Optimized.Dma;

/// <summary>
/// Address arithmetic of the DMA paths, written the way the kernel writes it for power-of-two
/// sizes (ALIGN, round_down): masks, not division. Every alignment Optimized
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

    /// <summary>Whether [start, start + length) crosses a dma_get_seg_boundary boundary: the
    /// first and last byte differ above the mask. An all-ones mask has no boundary.</summary>
    public static bool CrossesBoundary(ulong start, ulong length, ulong boundaryMask) =>
        length != 0 && ((start ^ (start + (length - 1))) & ~boundaryMask) != 0;
}
