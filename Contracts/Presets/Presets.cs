namespace DmaVerify.Contracts;

/// <summary>
/// The seed systems. Each preset is a whole platform: memory map, bounce pool,
/// translation units with their reserved regions, and a handful of devices that exercise the
/// preset's distinctive rules. Constants come from Linux (docs/linux-facts.md#reserved-regions,
/// docs/linux-facts.md#page-table-formats); memory maps are
/// plausible, chosen so that the interesting edges (4 GiB, HT hole, aperture, DDW limit) are
/// reachable by small scenarios.
/// </summary>
public static class Presets
{
    public const string X86Vtd = "x86-vtd", AmdVi = "amd-vi", ArmSmmu = "arm-smmu", K8Gart = "k8-gart",
        PowerTce = "power-tce", Direct = "direct", Virtio = "virtio", SocVcm = "soc-vcm";

    public static readonly IReadOnlyList<string> Names = [X86Vtd, AmdVi, ArmSmmu, K8Gart, PowerTce, Direct, Virtio, SocVcm];

    /// <summary>Extra names accepted besides <see cref="Names"/>: LPAE granule variants and
    /// virtio on another base ("virtio@arm-smmu").</summary>
    public static readonly IReadOnlyList<string> Variants =
        ["arm-smmu-16k", "arm-smmu-64k", .. new[] { X86Vtd, AmdVi, ArmSmmu, K8Gart, PowerTce, Direct }.Select(b => $"{Virtio}@{b}")];

    public static bool TryGet(string name, out PlatformConfig platform, out string error)
    {
        error = "";
        platform = null!;
        switch (name)
        {
            case X86Vtd: platform = BuildX86Vtd(); return true;
            case AmdVi: platform = BuildAmdVi(); return true;
            case ArmSmmu: platform = BuildArmSmmu(name, 1UL << 12); return true;
            case "arm-smmu-16k": platform = BuildArmSmmu(name, 1UL << 14); return true;
            case "arm-smmu-64k": platform = BuildArmSmmu(name, 1UL << 16); return true;
            case K8Gart: platform = BuildK8Gart(); return true;
            case PowerTce: platform = BuildPowerTce(); return true;
            case Direct: platform = BuildDirect(); return true;
            case SocVcm: platform = BuildSocVcm(); return true;
            case Virtio: platform = BuildVirtio(BuildX86Vtd(), name); return true;
        }
        if (name.StartsWith(Virtio + "@", StringComparison.Ordinal))
        {
            string baseName = name[(Virtio.Length + 1)..];
            if (baseName is not (Virtio or SocVcm) && !baseName.StartsWith(Virtio) && TryGet(baseName, out var basePlatform, out _))
            {
                platform = BuildVirtio(basePlatform, name);
                return true;
            }
            error = $"virtio needs a base preset among {string.Join(", ", Names.Except([Virtio, SocVcm]))}, not '{baseName}'";
            return false;
        }
        error = $"unknown preset '{name}'; known: {string.Join(", ", Names.Concat(Variants))}";
        return false;
    }

    public static PlatformConfig Get(string name) =>
        TryGet(name, out var p, out var error) ? p : throw new ArgumentException(error);

    private static AddrRange R(ulong start, ulong last) => new(start, last);
    private const ulong Mask32 = 0xFFFF_FFFF, Mask64 = ulong.MaxValue;
    private static ulong BitMask(int bits) => bits >= 64 ? ulong.MaxValue : (1UL << bits) - 1;

    // x86 memory map shared by the VT-d, AMD-Vi and direct presets.
    private static readonly AddrRange[] X86Ram = [R(0x0010_0000, 0x7FFF_FFFF), R(0x1_0000_0000, 0x4_7FFF_FFFF)];
    private static readonly AddrRange[] X86Mmio = [R(0xC000_0000, 0xFEBF_FFFF), R(0xFEC0_0000, 0xFEFF_FFFF), R(0x38_0000_0000, 0x38_FFFF_FFFF)];
    private static readonly AddrRange[] X86PciWindows = [R(0xC000_0000, 0xFEBF_FFFF), R(0x38_0000_0000, 0x38_FFFF_FFFF)];
    private static readonly AddrRange X86Swiotlb = R(0x7C00_0000, 0x7FFF_FFFF);
    /// <summary>IOAPIC_RANGE_START..END / MSI_RANGE: the x86 interrupt window.</summary>
    public static readonly AddrRange X86MsiWindow = R(0xFEE0_0000, 0xFEEF_FFFF);
    /// <summary>AMD HyperTransport reserved range 0xFD_0000_0000..0xFF_FFFF_FFFF.</summary>
    public static readonly AddrRange HyperTransportHole = R(0xFD_0000_0000, 0xFF_FFFF_FFFF);
    /// <summary>MSI_IOVA_BASE / MSI_IOVA_LENGTH of the ARM SMMU drivers.</summary>
    public static readonly AddrRange ArmSwMsiWindow = R(0x0800_0000, 0x080F_FFFF);

    private static IReadOnlyList<DeviceConfig> X86Devices(int iommu) =>
    [
        new() { Id = 0, Name = "nic", Iommu = iommu, IsPci = true, DmaMask = Mask64, CoherentMask = Mask64, SegmentBoundaryMask = Mask32 },
        new() { Id = 1, Name = "sata", Iommu = iommu, IsPci = true, DmaMask = Mask32, CoherentMask = Mask32, SegmentBoundaryMask = Mask32 },
        new() { Id = 2, Name = "thunderbolt-nvme", Iommu = iommu, IsPci = true, Untrusted = true, DmaMask = Mask64, CoherentMask = Mask64, SegmentBoundaryMask = Mask32 },
        new() { Id = 3, Name = "dsp", Iommu = iommu, DmaMask = BitMask(40), CoherentMask = Mask32 },
    ];

    private static PlatformConfig BuildX86Vtd() => new()
    {
        Preset = X86Vtd,
        Ram = X86Ram,
        Mmio = X86Mmio,
        SwiotlbPool = X86Swiotlb,
        Iommus =
        [
            new IommuConfig
            {
                Id = 0, Kind = IommuKind.VtD, Format = Formats.VtdSecondStage(4),
                ApertureEnd = BitMask(48), DefaultDomainType = DomainType.DmaFq,
                PciHostWindows = X86PciWindows,
                Regions =
                [
                    new ReservedRegion(X86MsiWindow, ReservedRegionType.Msi, Prot.Write | Prot.Mmio),
                    new ReservedRegion(R(0x7A00_0000, 0x7A0F_FFFF), ReservedRegionType.Direct), // an RMRR
                ],
            },
        ],
        Devices = X86Devices(0),
    };

    private static PlatformConfig BuildAmdVi() => new()
    {
        Preset = AmdVi,
        Ram = [.. X86Ram, R(0x100_0000_0000, 0x100_3FFF_FFFF)],
        Mmio = X86Mmio,
        SwiotlbPool = X86Swiotlb,
        Iommus =
        [
            new IommuConfig
            {
                Id = 0, Kind = IommuKind.AmdVi, Format = Formats.AmdV1(48),
                ApertureEnd = BitMask(48), DefaultDomainType = DomainType.Dma,
                PciHostWindows = X86PciWindows,
                Regions =
                [
                    new ReservedRegion(X86MsiWindow, ReservedRegionType.Msi, Prot.Write | Prot.Mmio),
                    new ReservedRegion(HyperTransportHole, ReservedRegionType.Reserved, Prot.None),
                    new ReservedRegion(R(0x7B00_0000, 0x7B00_FFFF), ReservedRegionType.Direct), // an IVRS unity map
                ],
            },
        ],
        Devices = X86Devices(0),
    };

    private static PlatformConfig BuildArmSmmu(string name, ulong granule) => new()
    {
        Preset = name,
        Ram = [R(0x8000_0000, 0xFFFF_FFFF), R(0x8_8000_0000, 0x9_FFFF_FFFF)],
        Mmio = [R(0x0800_0000, 0x0FFF_FFFF), R(0x1000_0000, 0x3EFF_FFFF), R(0x40_0000_0000, 0x40_FFFF_FFFF)],
        SwiotlbPool = R(0xFC00_0000, 0xFFFF_FFFF),
        Iommus =
        [
            new IommuConfig
            {
                Id = 0, Kind = IommuKind.ArmSmmu, Format = Formats.ArmLpae(granule, 48),
                ApertureEnd = BitMask(48), DefaultDomainType = DomainType.Dma,
                PciHostWindows = [R(0x1000_0000, 0x3EFF_FFFF), R(0x40_0000_0000, 0x40_FFFF_FFFF)],
                Regions = [new ReservedRegion(ArmSwMsiWindow, ReservedRegionType.SwMsi, Prot.Write | Prot.NoExec | Prot.Mmio)],
            },
        ],
        Devices =
        [
            new() { Id = 0, Name = "pcie-nic", Iommu = 0, IsPci = true, DmaMask = Mask64, CoherentMask = Mask64, SegmentBoundaryMask = Mask32 },
            new() { Id = 1, Name = "usb", Iommu = 0, DmaMask = Mask32, CoherentMask = Mask32 },
            new() { Id = 2, Name = "crypto", Iommu = 0, DmaMask = BitMask(40), CoherentMask = BitMask(40), MaxSegmentSize = 0x1_0000_0000 },
        ],
    };

    /// <summary>GART aperture: base field 2 × 32 MiB... placed at 1 GiB, order 1 (64 MiB).</summary>
    public static readonly AddrRange K8Aperture = R(0x4000_0000, 0x43FF_FFFF);

    private static PlatformConfig BuildK8Gart() => new()
    {
        Preset = K8Gart,
        // RAM behind the aperture is aliased by it; buffers there must be remapped.
        Ram = [R(0x0010_0000, 0xBFFF_FFFF), R(0x1_0000_0000, 0x1_3FFF_FFFF), R(0x100_0000_0000, 0x100_0FFF_FFFF)],
        Mmio = [R(0xC000_0000, 0xFEFF_FFFF)],
        Iommus =
        [
            new IommuConfig
            {
                Id = 0, Kind = IommuKind.Gart, Format = Formats.Gart(K8Aperture),
                ApertureStart = K8Aperture.Start, ApertureEnd = K8Aperture.Last, DefaultDomainType = DomainType.Dma,
                Gart = new GartConfig(K8Aperture),
                Regions = [new ReservedRegion(X86MsiWindow, ReservedRegionType.Msi, Prot.Write | Prot.Mmio)],
            },
        ],
        Devices =
        [
            new() { Id = 0, Name = "nic", Iommu = 0, IsPci = true, DmaMask = Mask32, CoherentMask = Mask32, SegmentBoundaryMask = Mask32 },
            new() { Id = 1, Name = "sata", Iommu = 0, IsPci = true, DmaMask = Mask64, CoherentMask = Mask32, SegmentBoundaryMask = Mask32 },
            new() { Id = 2, Name = "isa-dma", Iommu = 0, DmaMask = BitMask(24), CoherentMask = BitMask(24) },
        ],
        SharedDefaultDomains = [[0, 1, 2]],
    };

    public static readonly TceConfig PowerTceWindows = new(R(0, 0x7FFF_FFFF), 0x0800_0000_0000_0000, 33);

    private static PlatformConfig BuildPowerTce() => new()
    {
        Preset = PowerTce,
        // 8 GiB of RAM covered by the direct window, and pmem above it that is not.
        Ram = [R(0, 0x1_FFFF_FFFF), R(0x40_0000_0000, 0x40_3FFF_FFFF)],
        Mmio = [R(0x6000_0000_0000, 0x6000_FFFF_FFFF)],
        SwiotlbPool = null,
        Iommus =
        [
            new IommuConfig
            {
                Id = 0, Kind = IommuKind.Tce, Format = Formats.Tce(31),
                ApertureStart = PowerTceWindows.DefaultWindow.Start, ApertureEnd = PowerTceWindows.DefaultWindow.Last,
                DefaultDomainType = DomainType.Dma, Tce = PowerTceWindows,
            },
        ],
        Devices =
        [
            new() { Id = 0, Name = "nvme", Iommu = 0, IsPci = true, DmaMask = Mask32, CoherentMask = Mask32, SegmentBoundaryMask = Mask32 },
            new() { Id = 1, Name = "legacy-nic", Iommu = 0, IsPci = true, DmaMask = Mask32, CoherentMask = Mask32, SegmentBoundaryMask = Mask32 },
        ],
    };

    private static PlatformConfig BuildDirect() => new()
    {
        Preset = Direct,
        Ram = X86Ram,
        Mmio = X86Mmio,
        SwiotlbPool = X86Swiotlb,
        Devices =
        [
            new() { Id = 0, Name = "nic", IsPci = true, DmaMask = Mask64, CoherentMask = Mask64, SegmentBoundaryMask = Mask32 },
            new() { Id = 1, Name = "sata", IsPci = true, DmaMask = Mask32, CoherentMask = Mask32, SegmentBoundaryMask = Mask32 },
            new() { Id = 2, Name = "isa-dma", DmaMask = BitMask(24), CoherentMask = BitMask(24) },
            new() { Id = 3, Name = "bus-limited", DmaMask = Mask64, CoherentMask = Mask64, BusDmaLimit = 0x3FFF_FFFF },
        ],
    };

    /// <summary>Virtio devices on a base platform: one with ACCESS_PLATFORM, one without (which
    /// uses physical addresses and so gets an identity domain, or no IOMMU where the base has no
    /// identity domains), and the base's first device.</summary>
    private static PlatformConfig BuildVirtio(PlatformConfig basePlatform, string name)
    {
        var iommu = basePlatform.Iommus.FirstOrDefault();
        bool paging = iommu is { Kind.HasPagingDomains: true };
        var baseDevice = basePlatform.Devices[0];
        var devices = new List<DeviceConfig>
        {
            new() { Id = 0, Name = "virtio-net", Iommu = iommu?.Id, IsPci = true, Virtio = true, DmaMask = Mask64, CoherentMask = Mask64, SegmentBoundaryMask = Mask32 },
            new() { Id = 1, Name = "virtio-blk-legacy", Iommu = paging ? iommu!.Id : null, IsPci = true, Virtio = false, DmaMask = Mask64, CoherentMask = Mask64, SegmentBoundaryMask = Mask32 },
            baseDevice with { Id = 2 },
        };
        var shared = basePlatform.SharedDefaultDomains.Count > 0 && iommu is not null
            ? new IReadOnlyList<int>[] { devices.Where(d => d.Iommu == iommu.Id && d.Virtio != false).Select(d => d.Id).ToArray() }
            : [];
        return basePlatform with { Preset = name, Devices = devices, SharedDefaultDomains = shared };
    }

    private static PlatformConfig BuildSocVcm() => new()
    {
        Preset = SocVcm,
        Ram = [R(0x4000_0000, 0xBFFF_FFFF), R(0x1_0000_0000, 0x1_7FFF_FFFF)],
        Mmio = [R(0x0800_0000, 0x0FFF_FFFF), R(0x1000_0000, 0x3FFF_FFFF)],
        SwiotlbPool = R(0xBC00_0000, 0xBFFF_FFFF),
        Iommus =
        [
            // Two SMMUs that walk one shared stage-1 table (display/camera and video).
            new IommuConfig
            {
                Id = 0, Kind = IommuKind.ArmSmmu, Format = Formats.ArmLpae(1UL << 12, 32), ApertureEnd = Mask32,
                Regions = [new ReservedRegion(ArmSwMsiWindow, ReservedRegionType.SwMsi, Prot.Write | Prot.NoExec | Prot.Mmio)],
            },
            new IommuConfig
            {
                Id = 1, Kind = IommuKind.ArmSmmu, Format = Formats.ArmLpae(1UL << 12, 32), ApertureEnd = Mask32,
                Regions = [new ReservedRegion(ArmSwMsiWindow, ReservedRegionType.SwMsi, Prot.Write | Prot.NoExec | Prot.Mmio)],
            },
            // The GPU's own SMMU with a 64K-granule stage-2 format.
            new IommuConfig
            {
                Id = 2, Kind = IommuKind.ArmSmmu, Format = Formats.ArmLpae(1UL << 16, 48, stage2: true), ApertureEnd = BitMask(48),
                DefaultDomainType = DomainType.DmaFq,
            },
        ],
        Devices =
        [
            new() { Id = 0, Name = "display", Iommu = 0, DmaMask = Mask32, CoherentMask = Mask32 },
            new() { Id = 1, Name = "camera", Iommu = 0, DmaMask = Mask32, CoherentMask = Mask32, MaxSegmentSize = 0x10_0000 },
            new() { Id = 2, Name = "video", Iommu = 1, DmaMask = Mask32, CoherentMask = Mask32 },
            new() { Id = 3, Name = "gpu", Iommu = 2, DmaMask = BitMask(48), CoherentMask = BitMask(48), MaxSegmentSize = 0x1_0000_0000 },
            new() { Id = 4, Name = "audio-dsp", Iommu = null, DmaMask = Mask32, CoherentMask = Mask32 },
        ],
        SharedDefaultDomains = [[0, 1, 2]],
    };
}
