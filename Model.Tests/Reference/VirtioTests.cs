using DmaVerify.Contracts;
using DmaVerify.Model;
using static DmaVerify.Tests.Model.Kit;

namespace DmaVerify.Tests.Model;

/// <summary>
/// virtio on a base platform (INV-13). Dev 0 offers ACCESS_PLATFORM (a 64-bit PCI
/// device using the DMA API); dev 1 does not: it puts physical addresses on the bus, so behind a
/// paging IOMMU it sits in an identity domain, and where the base has no separate domains (GART,
/// no IOMMU) it is not behind the IOMMU at all. Dev 2 is the base preset's first device.
/// </summary>
public class VirtioTests
{
    /// <summary>Presets whose IOMMU has domains, with a RAM address above 4 GiB on each.</summary>
    public static TheoryData<string, ulong> PagingBases => new()
    {
        { "virtio", 0x1_0000_0000 },
        { "virtio@x86-vtd", 0x1_0000_0000 },
        { "virtio@amd-vi", 0x1_0000_0000 },
        { "virtio@arm-smmu", 0x8_8000_0000 },
    };

    [Theory]
    [MemberData(nameof(PagingBases))]
    public void DeviceWithoutAccessPlatformUsesPhysicalAddressesInAnIdentityDomain(string preset, ulong phys)
    {
        var m = New(preset);
        Assert.Equal(DomainType.Identity, m.DomainOf(1).Type);
        var mapped = m.MapOk(1, phys + 0x123, 0x100);
        Assert.Equal(phys + 0x123, mapped.Dma.Value);
        Assert.Null(mapped.Bounce);
        Assert.Empty(m.DomainOf(1).Leaves);
        m.Reaches(1, phys + 0x123, phys + 0x123, 0x100);
    }

    [Theory]
    [InlineData("virtio")]
    [InlineData("virtio@x86-vtd")]
    [InlineData("virtio@amd-vi")]
    [InlineData("virtio@arm-smmu")]
    public void BypassingDeviceRefusesTranslatingDomains(string preset)
    {
        var m = New(preset);
        int unmanaged = m.AllocDomainOk(0, DomainType.Unmanaged);
        int blocked = m.AllocDomainOk(0, DomainType.Blocked);
        int dmaDomain = m.State.Device(0)!.Domain!.Value;
        m.RefusedWithoutChange(new Attach(1, unmanaged), DmaErrorKind.VirtioBypass);
        m.RefusedWithoutChange(new Attach(1, dmaDomain), DmaErrorKind.VirtioBypass);
        m.RefusedWithoutChange(new SetDomainType(1, DomainType.Dma), DmaErrorKind.VirtioBypass);
        m.RefusedWithoutChange(new SetDomainType(1, DomainType.DmaFq), DmaErrorKind.VirtioBypass);
        m.RefusedWithoutChange(new Attach(1, blocked), DmaErrorKind.VirtioBypass);
        Assert.Equal(DomainType.Identity, m.DomainOf(1).Type);
        // Identity stays allowed.
        Assert.True(m.Apply(new SetDomainType(1, DomainType.Identity)).IsSuccess);
        int identity = m.AllocDomainOk(0, DomainType.Identity);
        m.Ok<Done>(new Attach(1, identity));
    }

    [Theory]
    // x86: dev 0 is a 64-bit PCI device, 32-bit first: the highest page below 4 GiB above the MSI
    // window, 0xFFFF_F000. ARM: the PCI window ends at 0x3EFF_FFFF, nothing else below 4 GiB is
    // reserved → 0xFFFF_F000 as well.
    [InlineData("virtio", 0x1_0000_0000UL)]
    [InlineData("virtio@amd-vi", 0x1_0000_0000UL)]
    [InlineData("virtio@arm-smmu", 0x8_8000_0000UL)]
    public void AccessPlatformDeviceUsesTheDmaApi(string preset, ulong phys)
    {
        var m = New(preset);
        Assert.True(m.DomainOf(0).IsDmaApi);
        var mapped = m.MapOk(0, phys + 0x40, 0x100);
        Assert.Equal(0xFFFF_F040UL, mapped.Dma.Value);
        m.Reaches(0, 0xFFFF_F040, phys + 0x40, 0x100);
        m.Ok<Done>(new Unmap(0, new LiveRef(0), 0x100, Bidi));
        // It can be moved to other domain types like any device.
        m.Ok<DomainAllocated>(new SetDomainType(0, DomainType.Identity));
    }

    [Fact]
    public void OnAGartTheBypassingDeviceIsNotBehindTheIommu()
    {
        var m = New("virtio@k8-gart");
        Assert.Null(m.State.Device(1)!.Domain);
        // Capable (64-bit mask) and outside the aperture: physical address.
        Assert.Equal(0x1_0000_0000UL, m.MapOk(1, 0x1_0000_0000, K4).Dma.Value);
        // Its bus address would land in the GART aperture, which translates: refused (INV-13).
        m.RefusedWithoutChange(new Map(1, new PhysAddr(0x4000_1000), K4, Bidi), DmaErrorKind.VirtioBypass);
        m.RefusedWithoutChange(new Map(1, new PhysAddr(0x43FF_F000), 0x2000, Bidi), DmaErrorKind.VirtioBypass);
        // There is no domain to give it.
        m.RefusedWithoutChange(new Attach(1, m.State.Device(0)!.Domain!.Value), DmaErrorKind.NoIommu);
        m.RefusedWithoutChange(new SetDomainType(1, DomainType.Dma), DmaErrorKind.NoIommu);
    }

    [Fact]
    public void OnAGartTheAccessPlatformDeviceIsAGartDevice()
    {
        var m = New("virtio@k8-gart");
        // Inside the aperture → remapped at the first GART page; outside and capable → bypassed.
        Assert.Equal(0x4000_0000UL, m.MapOk(0, 0x4000_1000, K4).Dma.Value);
        Assert.Equal(0x1_0000_0000UL, m.MapOk(0, 0x1_0000_0000, K4).Dma.Value);
        m.Reaches(0, 0x4000_0000, 0x4000_1000, K4);
        // dev 2 (the GART preset's 32-bit NIC) shares that domain and sees the same page.
        Assert.Equal(m.State.Device(0)!.Domain, m.State.Device(2)!.Domain);
        m.Reaches(2, 0x4000_0000, 0x4000_1000, K4);
    }

    [Fact]
    public void WithoutAnIommuBothVirtioDevicesAreDirect()
    {
        var m = New("virtio@direct");
        Assert.All(m.State.Devices, d => Assert.Null(d.Domain));
        Assert.Equal(0x2_0000_0000UL, m.MapOk(0, 0x2_0000_0000, K4).Dma.Value);
        Assert.Equal(0x2_0000_1000UL, m.MapOk(1, 0x2_0000_1000, K4).Dma.Value);
    }
}
