using System.Text.RegularExpressions;
using DmaVerify.Contracts;
using DmaVerify.Pictures;
using DmaVerify.Model;

namespace DmaVerify.Tests;

/// <summary>`verify show`'s text rendering on hand-built states (no executor needed).</summary>
public class ShowRenderingTests
{
    private static string Render(SystemState state)
    {
        var output = new StringWriter();
        IovaSpaceTextRenderer.Render(IovaSpaceView.Of(state), "title", output);
        return output.ToString();
    }

    private static DomainState DefaultDomain(PlatformConfig platform, DomainType type, IovaPolicy policy = IovaPolicy.SizeAligned)
    {
        var iommu = platform.Iommus[0];
        return new DomainState
        {
            Id = 0, Iommu = iommu.Id, Type = type, Format = iommu.Format, Aperture = iommu.Aperture,
            AllocStart = policy == IovaPolicy.SizeAligned ? 0x1000 : iommu.ApertureStart, IsDefault = true, Policy = policy,
        };
    }

    private static DeviceState DeviceFrom(PlatformConfig platform, int id, int? domain) => new()
    {
        Id = id, DmaMask = platform.Device(id)!.DmaMask, CoherentMask = platform.Device(id)!.CoherentMask,
        BusDmaLimit = platform.Device(id)!.BusDmaLimit, Domain = domain,
    };

    /// <summary>x86-vtd after one 8 KiB map and one unmap still in the flush queue.</summary>
    private static SystemState VtdState()
    {
        var platform = Presets.Get(Presets.X86Vtd);
        var domain = DefaultDomain(platform, DomainType.DmaFq);
        domain.Reserved.Add(new ReservedIova(Presets.X86MsiWindow, "MSI window"));
        domain.Reserved.Add(new ReservedIova(new AddrRange(0xC000_0000, 0xFEBF_FFFF), "PCI host window"));
        var mapped = new AddrRange(0xFFFF_E000, 0xFFFF_FFFF);
        var pending = new AddrRange(0xFFFF_C000, 0xFFFF_CFFF);
        domain.Allocations.Add(new IovaAllocation(mapped, AllocationOwner.Mapping));
        domain.Allocations.Add(new IovaAllocation(pending, AllocationOwner.FlushQueue));
        domain.FlushQueue.Add(new FlushQueueEntry(pending, 0));
        domain.Leaves.Add(0xFFFF_E000, new Leaf(0xFFFF_E000, 0x1000_0000, 0x1000, Prot.Read));
        domain.Leaves.Add(0xFFFF_F000, new Leaf(0xFFFF_F000, 0x1000_1000, 0x1000, Prot.Read));

        var state = new SystemState { Platform = platform };
        state.Domains.Add(domain);
        state.Devices.Add(DeviceFrom(platform, 0, 0));
        state.Devices.Add(DeviceFrom(platform, 1, 0));
        state.Mappings.Add(new DmaMapping
        {
            Id = 0, Device = 0, Kind = MappingKind.Single, Dma = new DmaAddr(0xFFFF_E000), Size = 0x2000,
            Direction = DmaDirection.ToDevice, Phys = new PhysAddr(0x1000_0000), Limit = ulong.MaxValue,
            Parts = [new MappingPart { Dma = 0xFFFF_E000, Length = 0x2000, Phys = 0x1000_0000, Domain = 0, Allocation = mapped }],
        });
        return state;
    }

    private static List<string> SpanRows(string text) =>
        text.Split('\n').SkipWhile(l => !l.Contains("IOVA space, by address:")).Skip(2)
            .TakeWhile(l => l.StartsWith("    0x", StringComparison.Ordinal)).ToList();

    [Fact]
    public void DomainHeaderNamesTypeApertureAndDevices()
    {
        string text = Render(VtdState());
        Assert.Contains("domain 0: DMA-FQ, lazy, default; iommu 0 (VtD), VtdSecondStage, granule 4 KiB", text);
        Assert.Contains("  aperture    0x0..0xFFFFFFFFFFFF (256 TiB); allocations from 0x1000, size-aligned", text);
        Assert.Contains("  devices     0 nic, 1 sata", text);
        Assert.Contains("2 leaves, 8 KiB mapped", text);
        Assert.Contains("flush queue 1 pending", text);
    }

    [Fact]
    public void SpansAreSortedByAddressWithFreeGapsBetween()
    {
        var rows = SpanRows(Render(VtdState()));
        var starts = rows.Select(r => Convert.ToUInt64(r.Trim().Split(' ')[0][2..], 16)).ToList();
        Assert.Equal(starts.OrderBy(s => s), starts);
        Assert.StartsWith("    0x0 ", rows[0]);
        Assert.Contains("free", rows[0]);
        Assert.Contains("0xFFFFFFFFFFFF", rows[^1]);   // the last free gap runs to the aperture's end
        Assert.Contains("free", rows[^1]);
    }

    [Fact]
    public void AllocationsShowTheirOwnerAndSize()
    {
        var rows = SpanRows(Render(VtdState()));
        Assert.Contains(rows, r => Regex.IsMatch(r, @"0xFFFFE000\s+0xFFFFFFFF\s+8 KiB\s+mapping\s+dev 0 #0 single to_device phys 0x10000000 8 KiB"));
        Assert.Contains(rows, r => Regex.IsMatch(r, @"0xFFFFC000\s+0xFFFFCFFF\s+4 KiB\s+flush-queue\s+unmapped, held by the flush queue; flush queue entry, counter 0: waiting for a flush"));
    }

    [Fact]
    public void ReservedMsiAndDirectRangesAreShownWithTheirReason()
    {
        var rows = SpanRows(Render(VtdState()));
        // The reservation and the IOMMU's MSI region are the same range: one row, both labels.
        Assert.Single(rows, r => r.Contains("0xFEE00000"));
        Assert.Contains(rows, r => Regex.IsMatch(r, @"0xFEE00000\s+0xFEEFFFFF\s+1 MiB\s+msi\s+hardware MSI window.*; reserved: MSI window$"));
        Assert.Contains(rows, r => Regex.IsMatch(r, @"0xC0000000\s+0xFEBFFFFF\s+.*reserved\s+reserved: PCI host window"));
        Assert.Contains(rows, r => Regex.IsMatch(r, @"0x7A000000\s+0x7A0FFFFF\s+1 MiB\s+direct\s+direct region"));
    }

    [Fact]
    public void TranslatedDeviceHasNoBypassAndListsItsMappings()
    {
        string text = Render(VtdState());
        Assert.Contains("  dev 0 nic (PCI): domain 0", text);
        Assert.Contains("    path        translated by domain 0 (DMA-FQ, lazy): no bypass", text);
        Assert.Contains("    bypass      none", text);
        Assert.Contains("    mapping #0  0xFFFFE000 single to_device phys 0x10000000 8 KiB", text);
        Assert.Contains("    DMA limit   0xFFFFFFFF (mask 0xFFFFFFFF, bus limit none)", text); // sata
    }

    /// <summary>An unmanaged x86-vtd domain (id 0) after two iommu_map calls: 2 MiB + 4 KiB of
    /// rw at 0x200000 (one large leaf, one small) and 4 KiB of r at 0x10000000.</summary>
    private static SystemState UnmanagedVtdState()
    {
        var platform = Presets.Get(Presets.X86Vtd);
        var domain = DefaultDomain(platform, DomainType.Unmanaged);
        domain.Leaves.Add(0x20_0000, new Leaf(0x20_0000, 0x4000_0000, 0x20_0000, Prot.Read | Prot.Write));
        domain.Leaves.Add(0x40_0000, new Leaf(0x40_0000, 0x4020_0000, 0x1000, Prot.Read | Prot.Write));
        domain.Leaves.Add(0x1000_0000, new Leaf(0x1000_0000, 0x1234_0000, 0x1000, Prot.Read));
        var state = new SystemState { Platform = platform };
        state.Domains.Add(domain);
        return state;
    }

    [Fact]
    public void IommuMappedRangesOfAnUnmanagedDomainAreShownNotFree()
    {
        var rows = SpanRows(Render(UnmanagedVtdState()));
        Assert.Contains(rows, r => Regex.IsMatch(r,
            @"^    0x200000\s+0x400FFF\s+2052 KiB\s+iommu-map\s+iommu_map'd: phys 0x40000000\.\.0x40200FFF, prot rw; leaves 1 × 2 MiB, 1 × 4 KiB$"));
        Assert.Contains(rows, r => Regex.IsMatch(r,
            @"^    0x10000000\s+0x10000FFF\s+4 KiB\s+iommu-map\s+iommu_map'd: phys 0x12340000\.\.0x12340FFF, prot r; leaves 1 × 4 KiB$"));
        // No free row may cover a mapped byte.
        foreach (var free in rows.Where(r => Regex.IsMatch(r, @"\sfree$")))
        {
            var parts = free.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            ulong start = Convert.ToUInt64(parts[0][2..], 16), last = Convert.ToUInt64(parts[1][2..], 16);
            Assert.False(start <= 0x40_0FFF && last >= 0x20_0000, free);
            Assert.False(start <= 0x1000_0FFF && last >= 0x1000_0000, free);
        }
    }

    [Fact]
    public void AnUnmanagedDomainHasNoIovaAllocator()
    {
        string text = Render(UnmanagedVtdState());
        Assert.Contains("  aperture    0x0..0xFFFFFFFFFFFF (256 TiB); no IOVA allocator: the domain's owner picks IOVAs (iommu_map)", text);
    }

    [Fact]
    public void LeafSizesAreBrokenDownPerPageSizeOfTheFormat()
    {
        string text = Render(UnmanagedVtdState());
        Assert.Contains("  page table  3 leaves, 2056 KiB mapped;", text);
        Assert.Contains("  leaf sizes  4 KiB: 2 leaves, 8 KiB; 2 MiB: 1 leaf, 2 MiB; 1 GiB: 0", text);
        Assert.Contains("  leaf sizes  4 KiB: 2 leaves, 8 KiB; 2 MiB: 0; 1 GiB: 0", Render(VtdState()));
    }

    [Fact]
    public void ALeafOfASizeTheFormatLacksIsNamedAsSuch()
    {
        var state = UnmanagedVtdState();
        state.Domains[0].Leaves.Add(0x2000_0000, new Leaf(0x2000_0000, 0x5000_0000, 0x2000, Prot.Read));
        Assert.Contains("; 8 KiB (not a page size of VtdSecondStage): 1 leaf, 8 KiB", Render(state));
    }

    private static SystemState ArmState(DomainType type, ulong msiIova)
    {
        var platform = Presets.Get(Presets.ArmSmmu);
        var domain = DefaultDomain(platform, type);
        var state = new SystemState { Platform = platform };
        state.Domains.Add(domain);
        state.Devices.Add(DeviceFrom(platform, 1, 0));
        domain.Leaves.Add(msiIova, new Leaf(msiIova, 0x2F00_0000, 0x1000, Prot.Write));
        domain.MsiPages.Add(new MsiPage(0x2F00_0000, msiIova));
        if (type == DomainType.Unmanaged) domain.MsiBump = msiIova + 0x1000;
        else domain.Allocations.Add(new IovaAllocation(AddrRange.FromLength(msiIova, 0x1000), AllocationOwner.MsiPage));
        return state;
    }

    [Fact]
    public void InADmaDomainTheSwMsiWindowIsOrdinaryIovaSpace()
    {
        // dma-iommu skips IOMMU_RESV_SW_MSI and maps doorbells at IOVAs from its own allocator.
        var rows = SpanRows(Render(ArmState(DomainType.Dma, 0xFFFF_F000)));
        var window = Assert.Single(rows, r => r.Contains("0x8000000 "));
        Assert.Matches(@"0x8000000\s+0x80FFFFF\s+1 MiB\s+sw-msi\s+software-managed MSI window \(IOMMU_RESV_SW_MSI\) of IOMMU 0: " +
                       @"not reserved in a DMA domain, ordinary IOVA space; dma-iommu maps MSI doorbells itself at IOVAs from its allocator \(1 MSI page in this domain, 0 inside the window\)$", window);
        Assert.DoesNotContain("mapped here", window);
        Assert.Contains(rows, r => Regex.IsMatch(r, @"0xFFFFF000\s+0xFFFFFFFF\s+4 KiB\s+msi-page\s+MSI page; MSI doorbell page -> phys 0x2F000000"));
    }

    [Fact]
    public void InAnUnmanagedDomainTheSwMsiWindowHoldsTheMsiCookiesPages()
    {
        var rows = SpanRows(Render(ArmState(DomainType.Unmanaged, 0x800_0000)));
        Assert.Contains(rows, r => Regex.IsMatch(r, @"0x8000000\s+0x80FFFFF\s+1 MiB\s+sw-msi\s+software-managed MSI window \(IOMMU_RESV_SW_MSI\) of IOMMU 0: " +
                                                   @"the MSI cookie maps doorbell pages here by a bump pointer \(1 page used, next 0x8001000\)$"));
        Assert.Contains(rows, r => Regex.IsMatch(r, @"0x8000000\s+0x8000FFF\s+4 KiB\s+msi-page\s+MSI doorbell page -> phys 0x2F000000$"));
        Assert.DoesNotContain(rows, r => r.Contains("iommu-map")); // the MSI page's leaf is not an iommu_map
    }

    [Fact]
    public void TheHardwareMsiWindowIsNamedByItsKindAndWhatTheDomainDoesWithIt()
    {
        var rows = SpanRows(Render(VtdState()));
        Assert.Contains(rows, r => Regex.IsMatch(r, @"0xFEE00000\s+0xFEEFFFFF\s+1 MiB\s+msi\s+hardware MSI window \(IOMMU_RESV_MSI\) of IOMMU 0: " +
                                                   @"reserved, doorbell writes pass untranslated \(IOVA = phys\), never mapped; reserved: MSI window$"));
        var unmanaged = SpanRows(Render(UnmanagedVtdState()));
        Assert.Contains(unmanaged, r => Regex.IsMatch(r, @"0xFEE00000\s+0xFEEFFFFF\s+1 MiB\s+msi\s+hardware MSI window \(IOMMU_RESV_MSI\) of IOMMU 0: " +
                                                        @"doorbell writes pass untranslated; not reserved in an unmanaged domain$"));
        Assert.Contains(unmanaged, r => Regex.IsMatch(r, @"0x7A000000\s+0x7A0FFFFF\s+1 MiB\s+direct\s+direct region \(IOMMU_RESV_DIRECT\) of IOMMU 0: not mapped in this domain$"));
    }

    [Fact]
    public void GartDeviceBypassesOutsideTheApertureBelowItsMask()
    {
        var platform = Presets.Get(Presets.K8Gart);
        var state = new SystemState { Platform = platform };
        state.Domains.Add(DefaultDomain(platform, DomainType.Dma, IovaPolicy.PageGranular));
        state.Devices.Add(DeviceFrom(platform, 0, 0));
        string text = Render(state);
        Assert.Contains("    bypass      0x0..0x3FFFFFFF (1 GiB): dma = phys", text);
        Assert.Contains("    aperture    0x40000000..0x43FFFFFF (64 MiB): GART aperture: always remapped", text);
        Assert.Contains("    bypass      0x44000000..0xFFFFFFFF (3008 MiB): dma = phys", text);
        Assert.Contains("page-granular", text);
    }

    [Fact]
    public void PowerDeviceWithADirectWindowShowsTheDdw()
    {
        var platform = Presets.Get(Presets.PowerTce);
        var state = new SystemState { Platform = platform };
        state.Domains.Add(DefaultDomain(platform, DomainType.Dma, IovaPolicy.PageGranular));
        var nvme = DeviceFrom(platform, 0, 0);
        nvme.DmaMask = ulong.MaxValue;
        nvme.DdwActive = true;
        state.Devices.Add(nvme);
        state.Devices.Add(DeviceFrom(platform, 1, 0));
        string text = Render(state);
        Assert.Contains("    ddw         0x800000000000000..0x8000001FFFFFFFF (8 GiB): DDW direct window: dma = phys + 0x800000000000000", text);
        Assert.Contains("TCE: every DMA address is mapped through the default window", text); // legacy-nic has no DDW
    }

    [Fact]
    public void DeviceWithoutAnIommuShowsItsLimitAndTheBouncePool()
    {
        var platform = Presets.Get(Presets.Direct);
        var state = new SystemState { Platform = platform };
        state.Devices.Add(DeviceFrom(platform, 3, null));
        string text = Render(state);
        Assert.Contains("no domains", text);
        Assert.Contains("  dev 3 bus-limited: no domain", text);
        Assert.Contains("    DMA limit   0x3FFFFFFF (mask 0xFFFFFFFFFFFFFFFF, bus limit 0x3FFFFFFF)", text);
        Assert.Contains("    bypass      0x0..0x3FFFFFFF (1 GiB): dma = phys", text);
        Assert.Contains("    swiotlb     0x7C000000..0x7FFFFFFF (64 MiB): bounce pool", text);
    }

    [Theory]
    [InlineData(0UL, "0 B")]
    [InlineData(1023UL, "1023 B")]
    [InlineData(0x1000UL, "4 KiB")]
    [InlineData(0x600UL, "1.5 KiB")]
    [InlineData(4660UL, "4660 B")]
    [InlineData(0x1_0000_1234UL, "~4 GiB")]
    [InlineData(0x20_0000UL, "2 MiB")]
    [InlineData(0x7D00_0000UL, "2000 MiB")]
    [InlineData(0x10F_C000UL, "~16.98 MiB")]
    [InlineData(0x4000_0000UL, "1 GiB")]
    [InlineData(0x1_0000_0000_0000UL, "256 TiB")]
    [InlineData(ulong.MaxValue, "~15.99 EiB")]
    public void SizesAreHumanReadable(ulong bytes, string expected) => Assert.Equal(expected, Sizes.Human(bytes));

    [Fact]
    public void TheWhole64BitSpaceIs16EiB() => Assert.Equal("16 EiB", Sizes.Human((UInt128)1 << 64));
}
