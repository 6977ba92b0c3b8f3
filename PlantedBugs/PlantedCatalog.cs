using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;
using DmaVerify.Optimized;
using DmaVerify.Optimized.Dma;

namespace DmaVerify.PlantedBugs;

/// <summary>
/// Every planted bug (docs/planted-bugs.md has the table of which engine catches each, how fast
/// and how small). Most are one-line mutation switches inside Optimized (<see cref="OptimizedPlant"/>,
/// each at the site it names); a few are decorators over the real system that change what it
/// answers or exports. <see cref="Registry"/> holds them all as implementations, so the fuzz
/// engine can rebuild one beside instrumented copies (it is the provider type's registry).
/// </summary>
public static class PlantedCatalog
{
    public const string Optimized = "optimized", LinuxStyle = "linuxstyle";

    /// <summary>The two implementations bugs are planted in, as the composition root builds them
    /// (Cli/Composition/Implementations.cs; a test keeps the two in step).</summary>
    internal static OptimizedSystemOptions BaseOptions(string name) => name switch
    {
        Optimized => OptimizedSystemOptions.Optimized with { Name = Optimized },
        _ => OptimizedSystemOptions.LinuxStyle with { Name = LinuxStyle },
    };

    internal static ModelOptions BaseModelOptions(string name) => new() { StrictPci32First = name == Optimized };

    private static ISystemUnderTest Real(string name, PlatformConfig platform) => new OptimizedSystem(platform, BaseOptions(name));

    public static IReadOnlyList<PlantedBug> All { get; } = Build();

    /// <summary>Every planted implementation by its <c>BASE+NAME</c>; the first is the default.</summary>
    public static ImplementationRegistry Registry { get; } = new(typeof(PlantedCatalog), All.Select(b => b.Implementation));

    /// <summary>The bug named <paramref name="name"/> (with or without its <c>BASE+</c> prefix), or null.</summary>
    public static PlantedBug? Find(string name) =>
        All.FirstOrDefault(b => b.Name == name || b.ImplementationName == name);

    private static PlantedBug Switch(string name, string baseName, OptimizedPlant plant, Slip slip, string site, string description) =>
        new(name, baseName, slip, site, description)
        {
            Create = platform => new OptimizedSystem(platform, BaseOptions(baseName) with { Name = $"{baseName}+{name}", Plant = plant }),
            ModelOptions = BaseModelOptions(baseName),
            Plant = plant,
        };

    private static PlantedBug Decorated(string name, Slip slip, string site, string description,
        Func<Func<PlatformConfig, ISystemUnderTest>, Func<PlatformConfig, ISystemUnderTest>> decorate) =>
        new(name, Optimized, slip, site, description)
        {
            Create = decorate(platform => Real(Optimized, platform)),
            ModelOptions = BaseModelOptions(Optimized),
        };

    private static List<PlantedBug> Build() =>
    [
        // ---- the IOVA allocators ----
        Switch("iova-limit-past-by-one", Optimized, OptimizedPlant.IovaLimitPastByOne, Slip.OffByOneAtALimit,
            "Optimized/Iova/AugmentedIovaAllocator.cs, FindLocked",
            "the gap that straddles the limit is clipped one PFN above it: a range may end one granule past the device's limit"),
        Switch("iova-limit-one-short", Optimized, OptimizedPlant.IovaLimitOneShort, Slip.OffByOneAtALimit,
            "Optimized/Iova/AugmentedIovaAllocator.cs, FindLocked",
            "the last granule under a limit is never handed out, so a request that needs it fails although it fits"),
        Switch("size-alignment-only-below-32", Optimized, OptimizedPlant.SizeAlignmentOnlyBelow32, Slip.WrongAlignment,
            "Optimized/Iova/CachedIovaAllocator.cs, AllocFast",
            "tree allocations of 32 granules and more are not aligned to roundup_pow_of_two(size)"),
        Switch("magazine-ignores-limit", Optimized, OptimizedPlant.MagazineIgnoresLimit, Slip.WrongLimit,
            "Optimized/Iova/RangeCache.cs, TryTake",
            "a magazine hands out a cached range without checking that it ends below the request's limit"),
        Switch("rcache-class-rounds-down", Optimized, OptimizedPlant.RcacheClassRoundsDown, Slip.OffByOneAtALimit,
            "Optimized/Iova/RangeCache.cs, ClassOf",
            "ranges are filed under floor(log2 size) instead of order_base_2: 33-63 granules share the 32-granule class"),
        Switch("linux-limit-past-by-one", LinuxStyle, OptimizedPlant.LinuxLimitPastByOne, Slip.OffByOneAtALimit,
            "Optimized/Iova/LinuxStyleIovaAllocator.cs, AllocLocked",
            "the exclusive limit is made twice (limit_pfn + 2): a range may end one granule past the limit"),
        Switch("linux-align-mask-halved", LinuxStyle, OptimizedPlant.LinuxAlignMaskHalved, Slip.WrongAlignment,
            "Optimized/Iova/LinuxStyleIovaAllocator.cs, AllocRange",
            "the align mask is built for half the size: ranges are aligned to half their power-of-two size"),
        Switch("linux-cached32-kept-on-free", LinuxStyle, OptimizedPlant.LinuxCached32KeptOnFree, Slip.StaleCache,
            "Optimized/Iova/LinuxStyleIovaAllocator.cs, CachedNodesOnDelete",
            "freeing the node cached32_node points at leaves the cache on it (> for >=, no free == cached test): the next 32-bit walk starts at a recycled node"),

        // ---- reservations and domain set-up ----
        Switch("reserve-drops-last-granule", Optimized, OptimizedPlant.ReserveDropsLastGranule, Slip.MissedReservation,
            "Optimized/Dma/OptimizedSystem.Domains.cs, PrepareDomainForDevice",
            "reserve_iova is called with an exclusive end: the last granule of every reserved region stays allocatable"),
        Switch("pci-windows-not-reserved", Optimized, OptimizedPlant.PciWindowsNotReserved, Slip.MissedReservation,
            "Optimized/Dma/OptimizedSystem.Domains.cs, PrepareDomainForDevice",
            "iova_reserve_pci_windows is skipped: IOVAs inside a PCI host bridge window are handed out"),
        Switch("direct-regions-not-mapped-on-type-change", Optimized, OptimizedPlant.DirectRegionsNotMappedOnTypeChange, Slip.MissedReservation,
            "Optimized/Dma/OptimizedSystem.Domains.cs, DoSetDomainType",
            "a default domain made by a group type change gets no 1:1 mappings for the RMRR / unity regions"),

        // ---- limits and the DMA paths ----
        Switch("bus-limit-ignored-by-iommu-dma", Optimized, OptimizedPlant.BusLimitIgnoredByIommuDma, Slip.WrongLimit,
            "Optimized/Dma/OptimizedSystem.Map.cs, IommuDmaLimit",
            "dma-iommu allocates below the DMA mask alone, ignoring bus_dma_limit"),
        Switch("coherent-mask-ignored", Optimized, OptimizedPlant.CoherentMaskIgnored, Slip.WrongLimit,
            "Optimized/Dma/OptimizedSystem.Map.cs, MapSingle",
            "dma_alloc_coherent allocates below the streaming DMA mask instead of the coherent mask"),
        Switch("gart-aperture-last-byte-unchecked", Optimized, OptimizedPlant.GartApertureLastByteUnchecked, Slip.OffByOneAtALimit,
            "Optimized/Dma/OptimizedSystem.Map.cs, OverlapsRemappingAperture",
            "the GART aperture test checks length - 1 bytes: a buffer ending on the aperture's first byte is bypassed 1:1"),
        Switch("bounce-ignores-limit", Optimized, OptimizedPlant.BounceIgnoresLimit, Slip.WrongLimit,
            "Optimized/Dma/OptimizedSystem.Map.cs, MapDirect",
            "dma-direct takes a swiotlb slot anywhere in the pool, ignoring the device's DMA limit"),
        Switch("untrusted-tail-not-bounced", Optimized, OptimizedPlant.UntrustedTailNotBounced, Slip.MissedCheck,
            "Optimized/Dma/OptimizedSystem.Map.cs, MapIommu",
            "the untrusted-device bounce test looks at the buffer's start only: a page-aligned buffer with a short tail is mapped in place"),
        Switch("pci32-first-skipped", Optimized, OptimizedPlant.Pci32FirstSkipped, Slip.WrongLimit,
            "Optimized/Dma/OptimizedSystem.Iova.cs, AllocDmaIova",
            "dma-iommu's 32-bit-first pass for PCI devices is skipped"),

        // ---- scatter-gather ----
        Switch("sg-max-segment-past-by-one", Optimized, OptimizedPlant.SgMaxSegmentPastByOne, Slip.OffByOneAtALimit,
            "Optimized/Dma/OptimizedSystem.Sg.cs, MapSgMerged",
            "a merged DMA segment may be one byte longer than max_segment_size"),
        Switch("sg-pad-skips-second-entry", Optimized, OptimizedPlant.SgPadSkipsSecondEntry, Slip.OffByOneAtALimit,
            "Optimized/Dma/OptimizedSystem.Sg.cs, MapSgMerged",
            "the boundary pad is computed with the previous entry's index: the second entry is never padded and may cross a segment boundary"),

        // ---- dma-debug checks ----
        Switch("wrong-direction-unmap-accepted", Optimized, OptimizedPlant.WrongDirectionUnmapAccepted, Slip.MissedCheck,
            "Optimized/Dma/OptimizedSystem.Map.cs, DoUnmap",
            "an unmap with another direction than the map's is accepted"),
        Switch("sg-nents-unchecked", Optimized, OptimizedPlant.SgNentsUnchecked, Slip.MissedCheck,
            "Optimized/Dma/OptimizedSystem.Map.cs, DoUnmap",
            "dma_unmap_sg does not compare nents with the map's"),
        Switch("double-unmap-not-tracked", Optimized, OptimizedPlant.DoubleUnmapNotTracked, Slip.MissedCheck,
            "Optimized/Dma/OptimizedSystem.Map.cs, DoUnmap",
            "an unmapped address is not remembered: a double unmap is reported as an unknown handle"),

        // ---- IOTLB and flush queue ----
        Switch("iotlb-invalidation-misses-last-granule", Optimized, OptimizedPlant.IotlbInvalidationMissesLastGranule, Slip.MissedInvalidation,
            "Optimized/Dma/OptimizedSystem.Access.cs, InvalidateIotlb",
            "IOTLB invalidation stops one granule short of the unmapped range's end"),
        Switch("iotlb-invalidation-skips-superpages", Optimized, OptimizedPlant.IotlbInvalidationSkipsSuperpages, Slip.MissedInvalidation,
            "Optimized/Dma/OptimizedSystem.Access.cs, InvalidateIotlb",
            "IOTLB invalidation drops granule-sized entries only: a cached superpage walk survives the unmap"),
        Switch("flush-queue-releases-unflushed", Optimized, OptimizedPlant.FlushQueueReleasesUnflushed, Slip.OrderDependentFree,
            "Optimized/Dma/OptimizedSystem.FlushQueue.cs, ReleaseCompletedFlushEntries",
            "a queued IOVA is freed once the finished count reaches its counter (<= for <): entries queued since the last flush are reused unflushed"),

        // ---- page tables ----
        Switch("vtd-superpage-ps-bit-lost", Optimized, OptimizedPlant.VtdSuperpagePsBitLost, Slip.LostPteBit,
            "Optimized/PageTables/MapUnmap.cs, Encoded",
            "VT-d superpage leaves are written without PS: the walker reads them as table pointers"),
        Switch("amd-large-page-write-bit-lost", Optimized, OptimizedPlant.AmdLargePageWriteBitLost, Slip.LostPteBit,
            "Optimized/PageTables/MapUnmap.cs, Encoded",
            "AMD v1 leaves larger than 4 KiB are written without IW: device writes through them fault"),
        Switch("gart-pte-high-address-bits-lost", Optimized, OptimizedPlant.GartPteHighAddressBitsLost, Slip.LostPteBit,
            "Optimized/PageTables/MapUnmap.cs, Encoded",
            "the GART PTE keeps physical address bits 31:12 only: buffers above 4 GiB are reached 4 GiB lower"),
        Switch("tce-bidirectional-write-bit-lost", Optimized, OptimizedPlant.TceBidirectionalWriteBitLost, Slip.LostPteBit,
            "Optimized/PageTables/MapUnmap.cs, Encoded",
            "a bidirectional mapping's TCE is written without TCE_PCI_WRITE (set for DMA_FROM_DEVICE only): device writes fault"),
        Switch("empty-tables-not-freed", Optimized, OptimizedPlant.EmptyTablesNotFreed, Slip.Leak,
            "Optimized/PageTables/MapUnmap.cs, UnmapLeafAt",
            "unmap does not prune table pages it emptied: page-table memory leaks"),
        Switch("failed-map-keeps-leaves", Optimized, OptimizedPlant.FailedMapKeepsLeaves, Slip.MissingUnwind,
            "Optimized/PageTables/MapUnmap.cs, Map",
            "a map that runs out of table pages part-way keeps the leaves it already wrote"),
        Switch("failed-map-keeps-allocation", Optimized, OptimizedPlant.FailedMapKeepsAllocation, Slip.MissingUnwind,
            "Optimized/Dma/OptimizedSystem.cs, Revert",
            "a map that fails after its IOVA was allocated keeps the allocation in the domain's list"),

        // ---- decorators over the real system ----
        Decorated("dma-limit-off-by-one", Slip.OffByOneAtALimit, "PlantedBugs/Decorators/DmaLimitOffByOne.cs",
            "min(mask, bus limit) - 1 is taken as the last reachable byte: a buffer ending exactly on the limit is bounced or refused",
            DmaLimitOffByOne.Over),
        Decorated("iova-in-msi-window", Slip.MissedReservation, "PlantedBugs/Decorators/IovaInMsiWindow.cs",
            "the hardware MSI window is not reserved: the first top-down allocation below 4 GiB lands in it",
            IovaInMsiWindow.Over),
        Decorated("missing-unmap-invalidation", Slip.MissedInvalidation, "PlantedBugs/Decorators/MissingUnmapInvalidation.cs",
            "translations a device used stay cached after the unmap until a flush",
            MissingUnmapInvalidation.Over),
        Decorated("sg-merge-across-boundary", Slip.OffByOneAtALimit, "PlantedBugs/Decorators/SgMergeAcrossBoundary.cs",
            "two DMA-contiguous segments are merged although the result crosses the segment boundary",
            SgMergeAcrossBoundary.Over),
        Decorated("superpage-on-unaligned-phys", Slip.WrongAlignment, "PlantedBugs/Decorators/SuperpageOnUnalignedPhys.cs",
            "the page-size choice checks the IOVA's alignment only: a 2 MiB leaf over a physical address that is not 2 MiB aligned",
            SuperpageOnUnalignedPhys.Over),
        Decorated("wrong-size-unmap-accepted", Slip.MissedCheck, "PlantedBugs/Decorators/WrongSizeUnmapAccepted.cs",
            "an unmap of the wrong size tears down the mapping with its real size and succeeds",
            WrongSizeUnmapAccepted.Over),
        Decorated("check-then-act-unmap", Slip.Race, "PlantedBugs/Decorators/CheckThenActUnmap.cs",
            "unmap resolves its handle and unmaps the address in two critical sections: another thread's unmap in between makes it a double unmap",
            CheckThenActUnmap.Over),
        new PlantedBug("unmap-without-system-lock", Optimized, Slip.Race, "Optimized/Dma/OptimizedSystem.cs, Apply",
            "ops run without the system lock: concurrent maps and unmaps corrupt the shared tables")
        {
            Create = platform => new OptimizedSystem(platform, BaseOptions(Optimized) with { Name = $"{Optimized}+unmap-without-system-lock" }) { PlantedBugNoLock = true },
            ModelOptions = BaseModelOptions(Optimized),
        },
    ];
}
