namespace DmaVerify.Contracts;

/// <summary>DMA data direction (enum dma_data_direction).</summary>
public enum DmaDirection { Bidirectional, ToDevice, FromDevice, None }

/// <summary>DMA attributes that change mapping behaviour (subset of DMA_ATTR_*).</summary>
[Flags]
public enum DmaAttrs { None = 0, SkipCpuSync = 1, Privileged = 2 }

/// <summary>IOMMU protection bits (IOMMU_READ … IOMMU_PRIV, include/linux/iommu.h).</summary>
[Flags]
public enum Prot { None = 0, Read = 1, Write = 2, Cache = 4, NoExec = 8, Mmio = 16, Priv = 32 }

/// <summary>iommu domain types. Dma is strict invalidation, DmaFq lazy (flush queue).</summary>
public enum DomainType { Blocked, Identity, Dma, DmaFq, Unmanaged }

/// <summary>enum iommu_resv_type. Which ones are reserved in IOVA space and which are mapped
/// 1:1 is decided in <see cref="ReservedRegion"/>.</summary>
public enum ReservedRegionType { Direct, DirectRelaxable, Reserved, Msi, SwMsi }

/// <summary>The kinds of translation hardware the presets model.</summary>
public enum IommuKind { VtD, AmdVi, ArmSmmu, Gart, Tce }

/// <summary>Page-table formats with real bit layouts (implemented in Optimized/).</summary>
public enum PageTableFormatKind { VtdSecondStage, AmdV1, ArmLpaeS1, ArmLpaeS2, Gart, Tce }

/// <summary>Which DMA-API call created a mapping; an unmap through another function is misuse.</summary>
public enum MappingKind { Single, Sg, Coherent, Resource }

/// <summary>DMA-API misuse and failure classes. Each misuse class of dma-debug has its own kind
/// (INV-10), so a test can tell a wrong size from a double unmap.</summary>
public enum DmaErrorKind
{
    // Bad arguments
    InvalidArgument,
    Overflow,
    Unaligned,
    NotRam,
    NotMmio,
    UnknownDevice,
    UnknownDomain,
    Unsupported,
    // Capability and resources
    NotCapable,
    OutOfIova,
    OutOfMemory,
    NoBounceBuffer,
    // IOMMU API
    AddressInUse,
    ReservedRange,
    OutOfRange,
    WrongDomainType,
    IncompatibleDomain,
    DomainBlocked,
    NoIommu,
    Busy,
    // Policy refusals
    VirtioBypass,
    RequireDirect,
    UntrustedPolicy,
    // dma-debug misuse classes
    InvalidDmaAddress,
    UnknownHandle,
    DoubleUnmap,
    WrongSize,
    WrongDirection,
    WrongFunction,
    SgCountMismatch,
    // Device access
    Fault,
    PermissionFault,
}
