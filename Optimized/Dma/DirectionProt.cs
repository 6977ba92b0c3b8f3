using DmaVerify.Contracts;

namespace DmaVerify.Optimized.Dma;

/// <summary>dma_info_to_prot (drivers/iommu/dma-iommu.c): the device reads a buffer mapped
/// DMA_TO_DEVICE, writes one mapped DMA_FROM_DEVICE, and does both for DMA_BIDIRECTIONAL.</summary>
internal static class DirectionProt
{
    public static Prot For(DmaDirection direction) => direction switch
    {
        DmaDirection.ToDevice => Prot.Read,
        DmaDirection.FromDevice => Prot.Write,
        DmaDirection.Bidirectional => Prot.Read | Prot.Write,
        _ => Prot.None,
    };
}
