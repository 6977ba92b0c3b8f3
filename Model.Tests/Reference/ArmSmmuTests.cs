using DmaVerify.Contracts;
using DmaVerify.Model;
using static DmaVerify.Tests.Model.Kit;

namespace DmaVerify.Tests.Model;

/// <summary>
/// arm-smmu (docs/linux-facts.md#msi-doorbells, docs/linux-facts.md#arm-lpae). SW_MSI window
/// 0x0800_0000 + 1 MiB is not reserved in DMA domains; MSI doorbell pages are mapped on demand at
/// an IOVA from the domain's allocator, once per domain. Unmanaged domains take MSI pages from the
/// window by a bump pointer. Dev 1 (usb) is a non-PCI device with a 32-bit mask: nothing is
/// reserved in its domain, so its highest fit for one granule G is 2^32 - G. The doorbell
/// 0x0C01_2040 is GIC MMIO.
/// </summary>
public class ArmSmmuTests
{
    private const ulong Doorbell = 0x0C01_2040;

    [Theory]
    // 4K: page 0x0C01_2000, offset 0x40, IOVA 0xFFFF_F000.
    [InlineData("arm-smmu", 0xFFFF_F040UL)]
    // 16K: page 0x0C01_0000, offset 0x2040, IOVA 0xFFFF_C000.
    [InlineData("arm-smmu-16k", 0xFFFF_E040UL)]
    // 64K: page 0x0C01_0000, offset 0x2040, IOVA 0xFFFF_0000.
    [InlineData("arm-smmu-64k", 0xFFFF_2040UL)]
    public void SwMsiMapsTheDoorbellPageOnDemandInTheDmaDomain(string preset, ulong expected)
    {
        var m = New(preset);
        var domain = m.DomainOf(1);
        Assert.DoesNotContain(domain.Reserved, r => r.Range.Overlaps(Presets.ArmSwMsiWindow));

        var first = m.Ok<Mapped>(new SetupMsi(1, new PhysAddr(Doorbell)));
        Assert.Equal(expected, first.Dma.Value);
        Assert.NotEqual(Doorbell, first.Dma.Value);
        domain = m.DomainOf(1); // the state read before the op is a snapshot of that moment
        Assert.Single(domain.MsiPages);
        Assert.Single(domain.Allocations, a => a.Owner == AllocationOwner.MsiPage);

        // Second call: the same page is reused, nothing new is allocated.
        Assert.Equal(first, m.Apply(new SetupMsi(1, new PhysAddr(Doorbell))));
        // Another doorbell in the same page shares it: +4.
        Assert.Equal(expected + 4, m.Ok<Mapped>(new SetupMsi(1, new PhysAddr(Doorbell + 4))).Dma.Value);
        Assert.Single(domain.MsiPages);
        Assert.Single(domain.Allocations);

        // The device's write reaches the doorbell.
        m.Reaches(1, expected, Doorbell, 4);
    }

    [Fact]
    public void MsiPageIsAnAllocationTheNextMapAvoids()
    {
        var m = New("arm-smmu");
        Assert.Equal(0xFFFF_F040UL, m.Ok<Mapped>(new SetupMsi(1, new PhysAddr(Doorbell))).Dma.Value);
        Assert.Equal(0xFFFF_E000UL, m.MapOk(1, 0x8000_0000, K4).Dma.Value);
    }

    [Theory]
    // Bump pointer from 0x0800_0000 by one granule per doorbell page.
    [InlineData("arm-smmu", 0x1000UL, 0x40UL)]
    [InlineData("arm-smmu-16k", 0x4000UL, 0x2040UL)]
    [InlineData("arm-smmu-64k", 0x1_0000UL, 0x2040UL)]
    public void UnmanagedDomainTakesMsiPagesFromTheSwMsiWindow(string preset, ulong granule, ulong offset)
    {
        var m = New(preset);
        int domain = m.AllocDomainOk(0, DomainType.Unmanaged);
        m.Ok<Done>(new Attach(1, domain));
        Assert.Equal(domain, m.State.Device(1)!.Domain);

        // first doorbell page → 0x0800_0000 + offset
        Assert.Equal(0x0800_0000 + offset, m.Ok<Mapped>(new SetupMsi(1, new PhysAddr(Doorbell))).Dma.Value);
        // a doorbell in another page → the next granule
        ulong other = 0x0C10_0000;
        Assert.Equal(0x0800_0000 + granule, m.Ok<Mapped>(new SetupMsi(1, new PhysAddr(other))).Dma.Value);
        // the first one again → reused
        Assert.Equal(0x0800_0000 + offset, m.Ok<Mapped>(new SetupMsi(1, new PhysAddr(Doorbell))).Dma.Value);
        Assert.Equal(0x0800_0000 + 2 * granule, m.State.Domain(domain)!.MsiBump);

        m.Reaches(1, 0x0800_0000 + offset, Doorbell, 4);
        m.Reaches(1, 0x0800_0000 + granule, other, 4);
        // The SW_MSI window is reserved IOVA for user mappings (VFIO/iommufd): an iommu_map over
        // the MSI page, or anywhere else in the window, is refused as a reserved range.
        m.Refused(new IommuMap(domain, new Iova(0x0800_0000), new PhysAddr(0x8000_0000), granule, Prot.Read | Prot.Write), DmaErrorKind.ReservedRange);
        m.Refused(new IommuMap(domain, new Iova(0x0800_0000 + 4 * granule), new PhysAddr(0x8000_0000), granule, Prot.Read | Prot.Write), DmaErrorKind.ReservedRange);
    }

    [Theory]
    // dma = (2^32 - G) + (phys mod G) for one granule.
    [InlineData("arm-smmu", 0x1000UL, 0xFFFF_F234UL, 0xFFFF_F000UL, 0x8000_1000UL)]
    [InlineData("arm-smmu-16k", 0x4000UL, 0xFFFF_D234UL, 0xFFFF_C000UL, 0x8000_0000UL)]
    [InlineData("arm-smmu-64k", 0x1_0000UL, 0xFFFF_1234UL, 0xFFFF_0000UL, 0x8000_0000UL)]
    public void GranuleSetsTheOffsetAndTheRounding(string preset, ulong granule, ulong dma, ulong leafIova, ulong leafPhys)
    {
        var m = New(preset);
        Assert.Equal(granule, m.DomainOf(1).Granule);
        var mapped = m.MapOk(1, 0x8000_1234, 0x100);
        Assert.Equal(dma, mapped.Dma.Value);
        Assert.Equal(0x8000_1234UL % granule, mapped.Dma.Value % granule);
        Assert.Equal([new Leaf(leafIova, leafPhys, granule, Prot.Read | Prot.Write)], m.DomainOf(1).Leaves.Values);
        m.Reaches(1, dma, 0x8000_1234, 0x100);
    }

    [Theory]
    // phys 0x8000_FF00 + 0x200 crosses a granule edge in every case:
    // 4K: offset 0xF00, 0x1100 → 2 granules (0x2000, aligned 0x2000) → 0xFFFF_E000 + 0xF00.
    [InlineData("arm-smmu", 0xFFFF_EF00UL, 0x2000UL)]
    // 16K: offset 0x3F00, 0x4100 → 2 granules (0x8000) → 0xFFFF_8000 + 0x3F00.
    [InlineData("arm-smmu-16k", 0xFFFF_BF00UL, 0x8000UL)]
    // 64K: offset 0xFF00, 0x1_0100 → 2 granules (0x2_0000) → 0xFFFE_0000 + 0xFF00.
    [InlineData("arm-smmu-64k", 0xFFFE_FF00UL, 0x2_0000UL)]
    public void LengthIsRoundedToWholeGranules(string preset, ulong dma, ulong allocated)
    {
        var m = New(preset);
        Assert.Equal(dma, m.MapOk(1, 0x8000_FF00, 0x200).Dma.Value);
        var allocation = Assert.Single(m.DomainOf(1).Allocations);
        Assert.Equal((UInt128)allocated, allocation.Range.Size);
        Assert.Equal(0x1_0000_0000UL - allocated, allocation.Range.Start);
        m.Reaches(1, dma, 0x8000_FF00, 0x200);
    }

    [Theory]
    [InlineData("arm-smmu-16k", 0x4000UL)]
    [InlineData("arm-smmu-64k", 0x1_0000UL)]
    public void IommuMapNeedsWholeGranules(string preset, ulong granule)
    {
        var m = New(preset);
        int domain = m.AllocDomainOk(0, DomainType.Unmanaged);
        // 4 KiB alignment is not enough for a 16K/64K granule.
        m.RefusedWithoutChange(new IommuMap(domain, new Iova(0x1000_1000), new PhysAddr(0x8000_0000), granule, Prot.Read), DmaErrorKind.Unaligned);
        m.RefusedWithoutChange(new IommuMap(domain, new Iova(0x1000_0000), new PhysAddr(0x8000_0000), 0x1000, Prot.Read), DmaErrorKind.Unaligned);
        m.Ok<Done>(new IommuMap(domain, new Iova(0x1000_0000), new PhysAddr(0x8000_0000), granule, Prot.Read));
        Assert.Equal([new Leaf(0x1000_0000, 0x8000_0000, granule, Prot.Read)], m.State.Domain(domain)!.Leaves.Values);
    }

    [Fact]
    public void SixteenKGranuleUsesThirtyTwoMegabyteBlocks()
    {
        var m = New("arm-smmu-16k");
        int domain = m.AllocDomainOk(0, DomainType.Unmanaged);
        // {16K, 32M}: 32 MiB + 16 KiB at 32 MiB-aligned IOVA and PA → one 32M block + one 16K page.
        m.Ok<Done>(new IommuMap(domain, new Iova(0x200_0000), new PhysAddr(0x8200_0000), 0x200_4000, Prot.Read | Prot.Write));
        Assert.Equal(
            [new Leaf(0x200_0000, 0x8200_0000, 0x200_0000, Prot.Read | Prot.Write), new Leaf(0x400_0000, 0x8400_0000, 0x4000, Prot.Read | Prot.Write)],
            m.State.Domain(domain)!.Leaves.Values);
    }
}
