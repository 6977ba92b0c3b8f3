namespace DmaVerify.Contracts;

/// <summary>
/// One translation unit. Which fields matter depends on <see cref="Kind"/>:
/// paging IOMMUs (VT-d, AMD-Vi, SMMU) use the aperture, default domain type and regions;
/// the K8 GART uses <see cref="Gart"/>; the PowerPC TCE unit uses <see cref="Tce"/>.
/// </summary>
public sealed record IommuConfig
{
    public required int Id { get; init; }
    public required IommuKind Kind { get; init; }
    public required PageTableGeometry Format { get; init; }
    public IReadOnlyList<ReservedRegion> Regions { get; init; } = [];
    public DomainType DefaultDomainType { get; init; } = DomainType.Dma;
    /// <summary>iommu_domain_geometry: first and last mappable IOVA, and whether DMA is
    /// confined to it (force_aperture clamps the DMA limit).</summary>
    public ulong ApertureStart { get; init; }
    public ulong ApertureEnd { get; init; } = ulong.MaxValue;
    public bool ForceAperture { get; init; } = true;
    /// <summary>PCI host-bridge MMIO windows (bus addresses); reserved in the IOVA space of
    /// every DMA domain that serves a PCI device.</summary>
    public IReadOnlyList<AddrRange> PciHostWindows { get; init; } = [];
    public GartConfig? Gart { get; init; }
    public TceConfig? Tce { get; init; }

    public AddrRange Aperture => new(ApertureStart, ApertureEnd);
}

/// <summary>K8 GART: a remapping aperture below 4 GiB of 32 MiB × 2^order. Buffers inside the
/// device's mask and outside the aperture are bypassed 1:1; the rest is remapped.</summary>
public sealed record GartConfig(AddrRange Aperture)
{
    /// <summary>GART_MAX_PHYS_ADDR: GART PTEs hold 40-bit physical addresses.</summary>
    public const ulong MaxPhys = (1UL << 40) - 1;
}

/// <summary>
/// PowerPC TCE unit of one partitionable endpoint: a default 32-bit window mapped through 4 KiB
/// TCEs, and a dynamic DMA window created when the device asks for a 64-bit mask. The DDW is a
/// direct window: dma = phys + <see cref="DdwOffset"/> for buffers whose end lies below
/// DdwOffset + 2^<see cref="DdwDirectBits"/> (the RAM it pre-maps); anything above goes through
/// the default window's TCE table (partial bypass, arch/powerpc dma-iommu.c).
/// </summary>
public sealed record TceConfig(AddrRange DefaultWindow, ulong DdwOffset, int DdwDirectBits)
{
    public ulong DirectLimit => DdwOffset + (1UL << DdwDirectBits);
}

/// <summary>A whole machine: memory map, bounce pool, translation units and devices.</summary>
public sealed record PlatformConfig
{
    /// <summary>Preset name as written in scenario headers (e.g. "x86-vtd", "virtio@arm-smmu").</summary>
    public required string Preset { get; init; }
    public required IReadOnlyList<AddrRange> Ram { get; init; }
    public IReadOnlyList<AddrRange> Mmio { get; init; } = [];
    /// <summary>swiotlb bounce pool (physical); null when there is none.</summary>
    public AddrRange? SwiotlbPool { get; init; }
    public IReadOnlyList<IommuConfig> Iommus { get; init; } = [];
    public required IReadOnlyList<DeviceConfig> Devices { get; init; }
    /// <summary>Device sets that share one default domain (one page table walked by several
    /// IOMMUs of the same format, as on VCM-style SoCs).</summary>
    public IReadOnlyList<IReadOnlyList<int>> SharedDefaultDomains { get; init; } = [];

    public DeviceConfig? Device(int id) => Devices.FirstOrDefault(d => d.Id == id);
    public IommuConfig? Iommu(int id) => Iommus.FirstOrDefault(i => i.Id == id);
    public bool IsRam(AddrRange r) => Ram.Any(m => m.Contains(r));
    public bool IsMmio(AddrRange r) => Mmio.Any(m => m.Contains(r));
}
