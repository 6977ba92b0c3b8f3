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

/// <summary>The families of domain types, as the flags of include/linux/iommu.h group them.</summary>
public static class DomainTypeFamilies
{
    extension(DomainType type)
    {
        /// <summary>Translates through a page table (__IOMMU_DOMAIN_PAGING): DMA, DMA-FQ and
        /// unmanaged domains; blocked and identity domains have no table.</summary>
        public bool IsPaging => type is DomainType.Dma or DomainType.DmaFq or DomainType.Unmanaged;

        /// <summary>Managed by the DMA API through dma-iommu (__IOMMU_DOMAIN_DMA_API): DMA and
        /// DMA-FQ domains, whose IOVA space the kernel allocates.</summary>
        public bool IsDmaApi => type is DomainType.Dma or DomainType.DmaFq;
    }
}

/// <summary>enum iommu_resv_type. Which ones are reserved in IOVA space and which are mapped
/// 1:1 is decided in <see cref="ReservedRegion"/>.</summary>
public enum ReservedRegionType { Direct, DirectRelaxable, Reserved, Msi, SwMsi }

/// <summary>The kinds of translation hardware the presets model.</summary>
public enum IommuKind { VtD, AmdVi, ArmSmmu, Gart, Tce }

/// <summary>The two families of IOMMU: every kind is in exactly one.</summary>
public static class IommuKindFamilies
{
    extension(IommuKind kind)
    {
        /// <summary>A paging IOMMU (intel-iommu, amd_iommu, arm-smmu): each domain has its own
        /// multi-level page table, domains can be allocated and changed, DMA domains take IOVAs
        /// from the size-aligned allocator, and PCI devices try 32-bit IOVAs first.</summary>
        public bool HasPagingDomains => kind is IommuKind.VtD or IommuKind.AmdVi or IommuKind.ArmSmmu;

        /// <summary>A window IOMMU (the K8 GART aperture, a PowerPC TCE window): one flat table
        /// over a fixed bus-address window, allocated page by page from a bitmap; no identity
        /// domain and no domain changes.</summary>
        public bool HasBitmapWindow => kind is IommuKind.Gart or IommuKind.Tce;
    }
}

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
