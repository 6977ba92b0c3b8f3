using DmaVerify.Contracts;

namespace DmaVerify.Optimized.Dma.Kernels;

/// <summary>
/// The DMA segments a mapped scatterlist hands back (iommu-dma's __finalise_sg): entries are fed
/// in order with where they landed in the IOVA range, and each either joins the open segment
/// (<see cref="SgRules.JoinsSegment"/>) or opens a new one. An entry that ends before the end of
/// its mapped span (padding or a partial last granule) closes its segment to later entries.
/// </summary>
internal sealed class SgSegmentJoiner(ulong boundaryMask, ulong maxSegment)
{
    private ulong _open; // bytes of the segment later entries may still join; 0: none is open

    public List<DmaSegment> Segments { get; } = [];

    /// <param name="iova">Where the entry's mapped span starts.</param>
    /// <param name="offset">The entry's offset into its first granule.</param>
    /// <param name="length">The entry's length in bytes.</param>
    /// <param name="span">The IOVA bytes the entry occupies (whole granules plus any padding).</param>
    public void Add(ulong iova, ulong offset, ulong length, ulong span)
    {
        if (SgRules.JoinsSegment(_open, offset, iova, boundaryMask, maxSegment, length))
        {
            Segments[^1] = Segments[^1] with { Length = Segments[^1].Length + length };
            _open += length;
        }
        else
        {
            Segments.Add(new DmaSegment(new DmaAddr(iova + offset), length));
            _open = length;
        }
        if (offset + length < span) _open = 0;
    }
}
