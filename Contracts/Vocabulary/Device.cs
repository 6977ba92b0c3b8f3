namespace DmaVerify.Contracts;

/// <summary>
/// A DMA master as a scenario declares it. Masks may later change through SetMask; the values
/// here are the ones at probe time.
/// </summary>
public sealed record DeviceConfig
{
    public required int Id { get; init; }
    public string Name { get; init; } = "";
    /// <summary>Index of the IOMMU the device sits behind; null when it has none (dma-direct).</summary>
    public int? Iommu { get; init; }
    public ulong DmaMask { get; init; } = uint.MaxValue;
    public ulong CoherentMask { get; init; } = uint.MaxValue;
    /// <summary>bus_dma_limit; 0 means none.</summary>
    public ulong BusDmaLimit { get; init; }
    /// <summary>dma_get_max_seg_size; Linux's default is 64 KiB.</summary>
    public ulong MaxSegmentSize { get; init; } = 0x10000;
    /// <summary>dma_get_seg_boundary; all-ones by default, 0xFFFF_FFFF for PCI devices.</summary>
    public ulong SegmentBoundaryMask { get; init; } = ulong.MaxValue;
    /// <summary>PCI devices try IOVAs below 4 GiB first (until the first failure) and get the
    /// host-bridge windows reserved in their IOVA space.</summary>
    public bool IsPci { get; init; }
    /// <summary>External-facing: always a strict DMA domain; sub-granule buffers are bounced.</summary>
    public bool Untrusted { get; init; }
    /// <summary>null: not a virtio device. true: offers VIRTIO_F_ACCESS_PLATFORM (uses the DMA
    /// API). false: uses physical addresses and bypasses the IOMMU.</summary>
    public bool? Virtio { get; init; }

    public bool BypassesIommu => Virtio == false;

    /// <summary>Masks must be DMA_BIT_MASK(n) with 24 ≤ n ≤ 64 (ZONE_DMA is the floor Linux accepts).</summary>
    public static bool IsValidMask(ulong mask) =>
        mask != 0 && (mask & (mask + 1)) == 0 && mask >= 0xFF_FFFF;
}
