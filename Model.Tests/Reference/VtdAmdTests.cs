using DmaVerify.Contracts;
using DmaVerify.Model;
using static DmaVerify.Tests.Model.Kit;

namespace DmaVerify.Tests.Model;

/// <summary>
/// x86-vtd and amd-vi through dma-iommu (docs/linux-facts.md#allocation-order,
/// docs/linux-facts.md#dma-iommu). Both presets have the same devices: 0 = 64-bit PCI, 1 = 32-bit
/// PCI, 2 = untrusted 64-bit PCI, 3 = 40-bit non-PCI. IOVA limit = min(mask, aperture end 2^48-1).
/// Reserved in every DMA domain: MSI 0xFEE0_0000..0xFEEF_FFFF, the direct region (VT-d RMRR
/// 0x7A00_0000 + 1 MiB, AMD unity map 0x7B00_0000 + 64 KiB), on AMD the HyperTransport hole
/// 0xFD_0000_0000..0xFF_FFFF_FFFF, and for PCI devices the host windows 0xC000_0000..0xFEBF_FFFF
/// and 0x38_0000_0000..0x38_FFFF_FFFF. Default choice: the highest aligned fit.
/// </summary>
public class VtdAmdTests
{
    [Theory]
    [InlineData("x86-vtd")]
    [InlineData("amd-vi")]
    public void PciDeviceTriesBelowFourGiBFirstThenFallsBackForGood(string preset)
    {
        var m = New(preset);
        Assert.True(m.State.Device(0)!.Pci32First);
        // Below 4 GiB the top free range is [0xFEF0_0000, 0xFFFF_FFFF] (above MSI) → 0xFFFF_F000.
        Assert.Equal(0xFFFF_F000UL, m.MapOk(0, 0x1_0000_0000, K4).Dma.Value);
        Assert.True(m.State.Device(0)!.Pci32First);

        // 1 GiB = 2^18 granules (≥ 32: not rounded), aligned to 1 GiB. 1 GiB slots below 4 GiB:
        // [0, ..] would start at IOVA 0; [0x4000_0000, ..] holds the direct region; [0xC000_0000, ..]
        // the PCI window; only [0x8000_0000, 0xBFFF_FFFF] is free.
        Assert.Equal(0x8000_0000UL, m.MapOk(0, 0x1_4000_0000, G1).Dma.Value);
        Assert.True(m.State.Device(0)!.Pci32First);

        // No 1 GiB slot is left below 4 GiB: the 32-bit pass fails, the flag is cleared, and the
        // highest 1 GiB slot below 2^48 is taken: 2^48 - 2^30 = 0xFFFF_C000_0000.
        Assert.Equal(0xFFFF_C000_0000UL, m.MapOk(0, 0x2_0000_0000, G1).Dma.Value);
        Assert.False(m.State.Device(0)!.Pci32First);

        // For good: a 4 KiB map now goes to the top of the full space (just below the 1 GiB
        // range: 0xFFFF_C000_0000 - 0x1000), although 0xFFFF_E000 below 4 GiB is still free.
        Assert.Equal(0xFFFF_BFFF_F000UL, m.MapOk(0, 0x1_0000_1000, K4).Dma.Value);
        Assert.False(m.State.Device(0)!.Pci32First);
        m.Reaches(0, 0xFFFF_C000_0000, 0x2_0000_0000, 0x1000);
    }

    [Theory]
    // VT-d: nothing reserved near the 40-bit limit → 0xFF_FFFF_F000 + offset 0x123.
    [InlineData("x86-vtd", 0xFF_FFFF_F123UL)]
    // AMD: the limit 0xFF_FFFF_FFFF lies in the HT hole [0xFD_0000_0000, 0xFF_FFFF_FFFF]; the
    // highest fit would be inside it, so the first page below it is taken: 0xFC_FFFF_F000 + 0x123.
    [InlineData("amd-vi", 0xFC_FFFF_F123UL)]
    public void NonPciDeviceGetsTheHighestFitBelowItsMask(string preset, ulong expected)
    {
        var m = New(preset);
        Assert.False(m.State.Device(3)!.Pci32First);
        var mapped = m.MapOk(3, 0x1_0000_0123, 0x10);
        Assert.Equal(expected, mapped.Dma.Value);
        // in-page offset kept
        Assert.Equal(0x1_0000_0123UL % K4, mapped.Dma.Value % K4);
        m.Reaches(3, expected, 0x1_0000_0123, 0x10);
        // the next one goes just below
        Assert.Equal((expected & ~0xFFFUL) - K4, m.MapOk(3, 0x1_0000_5000, K4).Dma.Value);
        var domain = m.DomainOf(3);
        Assert.DoesNotContain(domain.Allocations, a => domain.Reserved.Any(r => r.Range.Overlaps(a.Range)));
    }

    [Fact]
    public void SizesAreRoundedAndAlignedToAPowerOfTwo()
    {
        var m = New("x86-vtd");
        // dev 3, limit 0xFF_FFFF_FFFF. One page → 0xFF_FFFF_F000.
        Assert.Equal(0xFF_FFFF_F000UL, m.MapOk(3, 0x1_0000_0000, K4).Dma.Value);
        // 3 pages → size 4 pages (3 < 32 is rounded up), aligned to 4 pages (0x4000): highest
        // 16 KiB-aligned block below 0xFF_FFFF_F000 is [0xFF_FFFF_8000, 0xFF_FFFF_BFFF]
        // (an unaligned 4-page block would have been [0xFF_FFFF_B000, 0xFF_FFFF_EFFF]).
        Assert.Equal(0xFF_FFFF_8000UL, m.MapOk(3, 0x1_0001_0000, 0x3000).Dma.Value);
        var domain = m.DomainOf(3);
        Assert.Contains(domain.Allocations, a => a.Range == new AddrRange(0xFF_FFFF_8000, 0xFF_FFFF_BFFF));
        // Only the 3 pages asked for are mapped; the 4th granule of the allocation faults.
        Assert.Equal(
            [0xFF_FFFF_8000UL, 0xFF_FFFF_9000UL, 0xFF_FFFF_A000UL],
            domain.Leaves.Values.Where(l => l.Iova >= 0xFF_FFFF_8000 && l.Iova < 0xFF_FFFF_C000).Select(l => l.Iova));
        m.Faults(3, 0xFF_FFFF_B000);

        // 0x800 offset + 0x2000 bytes = 0x2800 → 3 granules → again a 4-page aligned block:
        // [0xFF_FFFF_4000, 0xFF_FFFF_7FFF]; dma keeps the 0x800 offset.
        Assert.Equal(0xFF_FFFF_4800UL, m.MapOk(3, 0x1_0002_0800, 0x2000).Dma.Value);

        // 33 pages: ≥ 32, so the size stays 33 pages (0x21000) but the alignment is 64 pages
        // (0x40000): highest start ≤ 0xFF_FFFF_3FFF - 0x20FFF = 0xFF_FFFD_3000, aligned down →
        // 0xFF_FFFC_0000.
        Assert.Equal(0xFF_FFFC_0000UL, m.MapOk(3, 0x1_0010_0000, 33 * K4).Dma.Value);
        Assert.Contains(m.DomainOf(3).Allocations, a => a.Range == new AddrRange(0xFF_FFFC_0000, 0xFF_FFFE_0FFF));
    }

    [Theory]
    [InlineData("x86-vtd", 0x1_0000_0FFFUL, 1UL)]
    [InlineData("x86-vtd", 0x1_0000_0001UL, 0x2FFFUL)]
    [InlineData("amd-vi", 0x1_0000_0ABCUL, 0x1000UL)]
    public void InPageOffsetIsKept(string preset, ulong phys, ulong length)
    {
        var m = New(preset);
        foreach (int device in new[] { 0, 1, 3 })
        {
            var mapped = m.MapOk(device, phys, length);
            Assert.Equal(phys % K4, mapped.Dma.Value % K4);
            m.Reaches(device, mapped.Dma.Value, phys, length);
        }
    }

    [Theory]
    [InlineData("x86-vtd")]
    [InlineData("amd-vi")]
    public void MsiWindowIsNeverAllocatedEvenWhenItIsTheHighestFit(string preset)
    {
        var m = New(preset);
        // dev 1: PCI, 32-bit mask, limit 0xFFFF_FFFF. Fill what lies above MSI:
        // 16 MiB aligned to 16 MiB → [0xFF00_0000, 0xFFFF_FFFF];
        Assert.Equal(0xFF00_0000UL, m.MapOk(1, 0x1_0000_0000, 0x100_0000).Dma.Value);
        // 1 MiB aligned to 1 MiB → [0xFEF0_0000, 0xFEFF_FFFF].
        Assert.Equal(0xFEF0_0000UL, m.MapOk(1, 0x1_0100_0000, M1).Dma.Value);
        // The next 1 MiB would be the MSI window [0xFEE0_0000, 0xFEEF_FFFF]; it is skipped and the
        // block below it, [0xFED0_0000, 0xFEDF_FFFF] (above the PCI window's end 0xFEBF_FFFF), is taken.
        Assert.Equal(0xFED0_0000UL, m.MapOk(1, 0x1_0110_0000, M1).Dma.Value);
        Assert.DoesNotContain(m.DomainOf(1).Allocations, a => a.Range.Overlaps(Presets.X86MsiWindow));
        Assert.Contains(m.DomainOf(1).Reserved, r => r.Range.Contains(Presets.X86MsiWindow));
        // 4 KiB requests skip it too: the highest free page is now 0xFECF_F000.
        Assert.Equal(0xFECF_F000UL, m.MapOk(1, 0x1_0200_0000, K4).Dma.Value);
    }

    [Fact]
    public void HyperTransportHoleIsReservedAndSkipped()
    {
        var m = New("amd-vi");
        Assert.Contains(m.DomainOf(3).Reserved, r => r.Range == Presets.HyperTransportHole);
        // dev 3 has a 40-bit mask: limit 0xFF_FFFF_FFFF is inside the hole. A 1 GiB request would fit
        // at 0xFF_C000_0000 if the hole were free; instead the highest 1 GiB slot below
        // 0xFD_0000_0000 is taken: 0xFC_C000_0000.
        Assert.Equal(0xFC_C000_0000UL, m.MapOk(3, 0x1_0000_0000, G1).Dma.Value);
        Assert.DoesNotContain(m.DomainOf(3).Allocations, a => a.Range.Overlaps(Presets.HyperTransportHole));
        Assert.DoesNotContain(m.DomainOf(3).Leaves.Values, l => l.Range.Overlaps(Presets.HyperTransportHole));
    }

    [Theory]
    [InlineData("x86-vtd", 0x7A00_0000UL, 0x10_0000UL)]
    [InlineData("amd-vi", 0x7B00_0000UL, 0x1_0000UL)]
    public void DirectRegionIsIdentityMappedAndReserved(string preset, ulong start, ulong size)
    {
        var m = New(preset);
        var region = AddrRange.FromLength(start, size);
        foreach (int device in new[] { 0, 1, 3 })
        {
            var domain = m.DomainOf(device);
            Assert.Contains(domain.Reserved, r => r.Range.Contains(region));
            Assert.All(domain.Leaves.Values.Where(l => l.Range.Overlaps(region)), l => Assert.Equal(l.Iova, l.Phys));
            m.Reaches(device, start + 0x40, start + 0x40, 0x100);
            m.Reaches(device, start + size - 0x10, start + size - 0x10, 0x10, write: false);
            // the byte after the region is not mapped
            m.Faults(device, start + size);
        }
        // AMD v1 has every power-of-two page size: the 64 KiB unity map is one 64 KiB leaf.
        if (preset == "amd-vi")
            Assert.Contains(new Leaf(start, start, size, Prot.Read | Prot.Write), m.DomainOf(0).Leaves.Values);
    }

    [Theory]
    [InlineData("x86-vtd")]
    [InlineData("amd-vi")]
    public void HardwareMsiIsUntranslated(string preset)
    {
        var m = New(preset);
        var before = m.DomainOf(0).Allocations.Count;
        // A LAPIC doorbell inside 0xFEE0_0000..0xFEEF_FFFF: the message address is the doorbell.
        Assert.Equal(new Mapped(new DmaAddr(0xFEE0_1004)), m.Apply(new SetupMsi(0, new PhysAddr(0xFEE0_1004))));
        Assert.Equal(new Mapped(new DmaAddr(0xFEE0_1004)), m.Apply(new SetupMsi(3, new PhysAddr(0xFEE0_1004))));
        Assert.Equal(before, m.DomainOf(0).Allocations.Count);
        Assert.Empty(m.DomainOf(0).MsiPages);
        // A write there reaches the doorbell untranslated; a read is not allowed.
        m.Reaches(0, 0xFEE0_1004, 0xFEE0_1004, 4, write: true);
        m.Refused(Access(0, 0xFEE0_1004, 4, write: false), DmaErrorKind.PermissionFault);
    }

    [Theory]
    [InlineData("x86-vtd")]
    [InlineData("amd-vi")]
    public void CoherentAllocationUsesTheCoherentMask(string preset)
    {
        var m = New(preset);
        // dev 3: streaming mask 40 bits, coherent mask 32 bits. Streaming → top of the 40-bit space
        // (VT-d 0xFF_FFFF_F000; AMD below the HT hole 0xFC_FFFF_F000); coherent → the highest page
        // below 4 GiB (above the MSI window, no PCI windows for a non-PCI device) 0xFFFF_F000.
        Assert.Equal(preset == "amd-vi" ? 0xFC_FFFF_F000UL : 0xFF_FFFF_F000UL, m.MapOk(3, 0x1_0000_0000, K4).Dma.Value);
        Assert.Equal(0xFFFF_F000UL, m.Ok<Mapped>(new AllocCoherent(3, new PhysAddr(0x1_0000_1000), K4)).Dma.Value);
        m.Reaches(3, 0xFFFF_F000, 0x1_0000_1000, K4);
    }

    [Fact]
    public void DefaultDomainTypes()
    {
        var vtd = New("x86-vtd");
        Assert.Equal(DomainType.DmaFq, vtd.DomainOf(0).Type);
        Assert.Equal(DomainType.Dma, vtd.DomainOf(2).Type); // untrusted: strict
        var amd = New("amd-vi");
        Assert.All(new[] { 0, 1, 2, 3 }, d => Assert.Equal(DomainType.Dma, amd.DomainOf(d).Type));
        // Each device has its own default domain.
        Assert.Equal(4, vtd.State.Devices.Select(d => d.Domain).Distinct().Count());
    }

    [Fact]
    public void IovaZeroIsNeverHandedOut()
    {
        var m = New("x86-vtd");
        // A 4 KiB proposal at IOVA 0 is refused; 0x1000 is the lowest allowed.
        var r = m.Check(new Map(3, new PhysAddr(0x1_0000_0000), K4, Bidi), new Mapped(new DmaAddr(0)));
        Assert.Equal("INV-05", r.Divergence?.Invariant);
        Assert.True(m.Check(new Map(3, new PhysAddr(0x1_0000_0000), K4, Bidi), new Mapped(new DmaAddr(0x1000))).Agrees);
    }
}
