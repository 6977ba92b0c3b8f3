namespace DmaVerify.Optimized.Dma.Kernels;

/// <summary>
/// The scatter-gather layout rules of dma_map_sg (iommu_dma_map_sg's boundary padding and
/// segment merging, the GART's chunk merging). Static, pure and total, for Proofs/ to lift
/// (PO-50..PO-53).
/// </summary>
public static class SgRules
{
    /// <summary>Bytes from <paramref name="iovaLen"/> up to the next segment boundary (0 when
    /// already on one): <c>(mask − iova_len + 1) &amp; mask</c>.</summary>
    public static ulong BoundaryPad(ulong boundaryMask, ulong iovaLen) => unchecked((boundaryMask - iovaLen + 1) & boundaryMask);

    /// <summary>The padding to insert before entry <paramref name="index"/> of (granule-aligned)
    /// <paramref name="length"/> bytes at offset <paramref name="iovaLen"/>: the pad when the
    /// entry would otherwise cross a boundary, else 0. The first entry is never padded.</summary>
    public static ulong PadBefore(int index, ulong boundaryMask, ulong iovaLen, ulong length)
    {
        ulong pad = BoundaryPad(boundaryMask, iovaLen);
        return index > 0 && pad != 0 && pad < length - 1 ? pad : 0;
    }

    /// <summary>Whether entry bytes (<paramref name="length"/>, starting <paramref name="offset"/>
    /// into its first granule, at IOVA <paramref name="dma"/>) join the current DMA segment of
    /// <paramref name="currentLength"/> bytes: one is open, the entry starts on a granule, the
    /// join is not at a segment boundary, and the sum stays within max_segment_size.</summary>
    public static bool JoinsSegment(ulong currentLength, ulong offset, ulong dma, ulong boundaryMask, ulong maxSegment, ulong length) =>
        currentLength != 0 && offset == 0 && (dma & boundaryMask) != 0 && currentLength <= maxSegment && maxSegment - currentLength >= length;

    /// <summary>GART: whether entry (<paramref name="phys"/>, <paramref name="length"/>) extends the
    /// remapped chunk that ends at <paramref name="previousEnd"/> (exclusive) with
    /// <paramref name="chunkLength"/> bytes so far: both sides page-aligned at the join and the
    /// chunk stays within max_segment_size (checked without overflow).</summary>
    public static bool GartJoinsChunk(ulong previousEnd, ulong phys, ulong chunkLength, ulong length, ulong maxSegment) =>
        (previousEnd & 0xFFF) == 0 && (phys & 0xFFF) == 0 && length <= maxSegment && chunkLength <= maxSegment - length;
}
