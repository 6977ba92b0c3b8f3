namespace DmaVerify.Optimized.Dma;

/// <summary>
/// Linux's swiotlb sizes (include/linux/swiotlb.h): IO_TLB_SHIFT 11 gives 2 KiB slots, and one
/// mapping spans at most IO_TLB_SEGSIZE (128) contiguous slots.
/// </summary>
internal static class SwiotlbGeometry
{
    public const int SlotShift = 11;
    public const ulong SlotSize = 1UL << SlotShift;
    public const int SegmentSlots = 128;
    public const ulong MaxMappingSize = SlotSize * SegmentSlots;
}
