using DmaVerify.Contracts;
using DmaVerify.Model;
using static DmaVerify.Tests.Model.Kit;

namespace DmaVerify.Tests.Model;

/// <summary>
/// soc-vcm: SMMUs 0 and 1 (LPAE 4K, 32-bit IOVA) walk one shared page table for
/// devices 0, 1 (behind SMMU 0) and 2 (behind SMMU 1); the GPU (3) has SMMU 2 with a 64K-granule
/// stage-2 format and its own domain; the audio DSP (4) has no IOMMU. Nothing is reserved in the
/// shared domain (SW_MSI is not reserved, no PCI devices), so its highest fit for n bytes is
/// 2^32 - n.
/// </summary>
public class SocVcmTests
{
    private const string Preset = "soc-vcm";

    [Fact]
    public void DomainsFollowTheTopology()
    {
        var m = New(Preset);
        int? shared = m.State.Device(0)!.Domain;
        Assert.NotNull(shared);
        Assert.Equal(shared, m.State.Device(1)!.Domain);
        Assert.Equal(shared, m.State.Device(2)!.Domain);
        Assert.NotEqual(shared, m.State.Device(3)!.Domain);
        Assert.Null(m.State.Device(4)!.Domain);
        Assert.Equal(K4, m.DomainOf(0).Granule);
        Assert.Equal(K64, m.DomainOf(3).Granule);
    }

    [Fact]
    public void ScatterListMappedByOneDeviceIsReachableByTheOthersAtTheSameAddresses()
    {
        var m = New(Preset);
        // Two page-aligned pages, not physically contiguous. iova_len = 0x2000 → 2 granules,
        // aligned 0x2000 → [0xFFFF_E000, 0xFFFF_FFFF]. The second entry starts on a granule, the
        // first ended on one, 0x1000 + 0x1000 ≤ 64 KiB → one DMA segment 0xFFFF_E000 + 0x2000.
        var sg = m.MapSgOk(0, (0x4000_0000, K4), (0x4001_0000, K4));
        Assert.Equal(ValueList.Of(new DmaSegment(new DmaAddr(0xFFFF_E000), 0x2000)), sg.Segments);

        var expected = ValueList.Of(
            new AccessChunk(0xFFFF_E000, new PhysAddr(0x4000_0000), K4),
            new AccessChunk(0xFFFF_F000, new PhysAddr(0x4001_0000), K4));
        foreach (int device in new[] { 0, 1, 2 })
            Assert.Equal(expected, m.AccessOk(device, 0xFFFF_E000, 0x2000).Chunks);

        // The GPU's own domain does not have it; the DSP puts 0xFFFF_E000 on the bus untranslated,
        // where there is neither RAM nor MMIO.
        m.Faults(3, 0xFFFF_E000);
        m.Faults(4, 0xFFFF_E000);
    }

    [Fact]
    public void SharedDomainHasOneIovaSpace()
    {
        var m = New(Preset);
        Assert.Equal(0xFFFF_F000UL, m.MapOk(2, 0x4000_0000, K4).Dma.Value);
        // dev 0 allocates from the same space: the next page down.
        Assert.Equal(0xFFFF_E000UL, m.MapOk(0, 0x4000_1000, K4).Dma.Value);
        m.Reaches(0, 0xFFFF_F000, 0x4000_0000, K4);
        m.Reaches(2, 0xFFFF_E000, 0x4000_1000, K4);
        // A strict unmap through dev 2 drops the walk cached by SMMU 0 for dev 0 too.
        m.Ok<Done>(new Unmap(2, new LiveRef(0), K4, Bidi));
        m.Faults(0, 0xFFFF_F000);
        m.Faults(2, 0xFFFF_F000);
    }

    [Fact]
    public void GpuUsesItsSixtyFourKGranule()
    {
        var m = New(Preset);
        // 48-bit mask and aperture; offset 0x1_0000_1234 mod 0x1_0000 = 0x1234; one 64K granule at
        // the top: 2^48 - 0x1_0000 = 0xFFFF_FFFF_0000 → 0xFFFF_FFFF_1234.
        var mapped = m.MapOk(3, 0x1_0000_1234, 0x100);
        Assert.Equal(0xFFFF_FFFF_1234UL, mapped.Dma.Value);
        Assert.Equal([new Leaf(0xFFFF_FFFF_0000, 0x1_0000_0000, K64, Prot.Read | Prot.Write)], m.DomainOf(3).Leaves.Values);
        m.Reaches(3, 0xFFFF_FFFF_1234, 0x1_0000_1234, 0x100);
        Assert.Equal(DomainType.DmaFq, m.DomainOf(3).Type);
        Assert.Empty(m.DomainOf(0).Leaves);
    }

    [Fact]
    public void GpuDmaDomainMapsMsiDoorbellsOnDemand()
    {
        var m = New(Preset);
        // SMMU 2 advertises no SW_MSI window, but the GPU's DMA domain has a DMA cookie: the doorbell
        // is outside any hardware MSI window, so iommu_dma_get_msi_page maps its 64K page at an IOVA
        // from the allocator (docs/linux-facts.md#msi-doorbells): 0x0C01_2040 = page 0x0C01_0000 +
        // 0x2040; highest 64K below 2^48 → 0xFFFF_FFFF_0000 → 0xFFFF_FFFF_2040.
        var msi = m.Ok<Mapped>(new SetupMsi(3, new PhysAddr(0x0C01_2040)));
        Assert.Equal(0xFFFF_FFFF_2040UL, msi.Dma.Value);
        Assert.Equal(msi, m.Apply(new SetupMsi(3, new PhysAddr(0x0C01_2040))));
        m.Reaches(3, 0xFFFF_FFFF_2040, 0x0C01_2040, 4);
    }

    [Fact]
    public void UnmanagedDomainWithoutAnMsiCookieLeavesMsiUntranslated()
    {
        var m = New(Preset);
        // No SW_MSI window on SMMU 2 → no MSI cookie for a VFIO-style domain → the message address
        // is the doorbell itself (docs/linux-facts.md#msi-doorbells: domains without a DMA/MSI
        // cookie leave MSIs untranslated).
        int domain = m.AllocDomainOk(2, DomainType.Unmanaged);
        m.Ok<Done>(new Attach(3, domain));
        Assert.Equal(new Mapped(new DmaAddr(0x0C01_2040)), m.Apply(new SetupMsi(3, new PhysAddr(0x0C01_2040))));
        Assert.Empty(m.State.Domain(domain)!.Leaves);
    }

    [Fact]
    public void DeviceWithoutIommuIsDirect()
    {
        var m = New(Preset);
        Assert.Equal(new Mapped(new DmaAddr(0x4000_0100)), m.Apply(new Map(4, new PhysAddr(0x4000_0100), 0x100, Bidi)));
        m.Reaches(4, 0x4000_0100, 0x4000_0100, 0x100);
        // Above its 32-bit mask: bounced through the pool 0xBC00_0000.
        Assert.Equal(new Mapped(new DmaAddr(0xBC00_0000), new PhysAddr(0xBC00_0000)), m.Apply(new Map(4, new PhysAddr(0x1_0000_0000), K4, Bidi)));
        m.RefusedWithoutChange(new Attach(4, m.State.Device(0)!.Domain!.Value), DmaErrorKind.NoIommu);
    }

    [Fact]
    public void GpuCannotJoinTheSharedDomainNorTheOthersItsOwn()
    {
        var m = New(Preset);
        int shared = m.State.Device(0)!.Domain!.Value, gpu = m.State.Device(3)!.Domain!.Value;
        m.RefusedWithoutChange(new Attach(3, shared), DmaErrorKind.IncompatibleDomain);
        m.RefusedWithoutChange(new Attach(0, gpu), DmaErrorKind.IncompatibleDomain);
        m.RefusedWithoutChange(new Attach(2, gpu), DmaErrorKind.IncompatibleDomain);
        // Joining a domain it already is in is a no-op.
        Assert.Equal(Done.Instance, m.Apply(new Attach(2, shared)));
    }
}
