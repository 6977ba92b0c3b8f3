using DmaVerify.Contracts;
using DmaVerify.Model;
using static DmaVerify.Tests.Model.Kit;

namespace DmaVerify.Tests.Model;

/// <summary>
/// iommu_map / iommu_unmap on unmanaged domains (docs/linux-facts.md#iommu_map-and-iommu_unmap):
/// iova, paddr and size multiples of the smallest page; greedy page sizes (iommu_pgsize); mapping
/// over a live leaf fails; unmap returns the bytes removed, removes a large page whole on a partial
/// request, and stops at a hole; Msi and Reserved regions are never mapped; DMA domains belong to
/// the DMA API.
/// </summary>
public class IommuApiTests
{
    private const Prot RW = Prot.Read | Prot.Write;

    private static (ModelSystem Model, int Domain) Unmanaged(string preset = "x86-vtd")
    {
        var m = New(preset);
        return (m, m.AllocDomainOk(0, DomainType.Unmanaged));
    }

    private static IommuMap MapOp(int domain, ulong iova, ulong phys, ulong size, Prot prot = RW) =>
        new(domain, new Iova(iova), new PhysAddr(phys), size, prot);

    [Theory]
    [InlineData(0x4000_0800UL, 0x1_0000_0000UL, 0x1000UL)] // iova
    [InlineData(0x4000_0000UL, 0x1_0000_0010UL, 0x1000UL)] // paddr
    [InlineData(0x4000_0000UL, 0x1_0000_0000UL, 0x1800UL)] // size
    public void UnalignedIsRefused(ulong iova, ulong phys, ulong size)
    {
        var (m, d) = Unmanaged();
        m.RefusedWithoutChange(MapOp(d, iova, phys, size), DmaErrorKind.Unaligned);
    }

    [Fact]
    public void GreedyPageSizesOnVtd()
    {
        var (m, d) = Unmanaged();
        // 4 MiB + 4 KiB at 2 MiB-aligned IOVA and PA, sizes {4K, 2M, 1G}: 1G > what is left;
        // 2M at 0x4000_0000 and at 0x4020_0000; 4K left at 0x4040_0000.
        m.Ok<Done>(MapOp(d, 0x4000_0000, 0x1_0000_0000, M4 + K4));
        Assert.Equal(
            [
                new Leaf(0x4000_0000, 0x1_0000_0000, M2, RW),
                new Leaf(0x4020_0000, 0x1_0020_0000, M2, RW),
                new Leaf(0x4040_0000, 0x1_0040_0000, K4, RW),
            ],
            m.State.Domain(d)!.Leaves.Values);
    }

    [Fact]
    public void PageSizeIsLimitedByThePhysicalAlignmentToo()
    {
        var (m, d) = Unmanaged();
        // IOVA 2 MiB-aligned, PA only 4 KiB-aligned → 512 pages of 4 KiB.
        m.Ok<Done>(MapOp(d, 0x4000_0000, 0x1_0000_1000, M2));
        var leaves = m.State.Domain(d)!.Leaves.Values;
        Assert.Equal(512, leaves.Count);
        Assert.All(leaves, l => Assert.Equal(K4, l.Size));
    }

    [Fact]
    public void GreedyPageSizesOnAmdUseEveryPowerOfTwo()
    {
        var (m, d) = Unmanaged("amd-vi");
        // AMD v1: every power of two from 4K: 4 MiB-aligned IOVA and PA → one 4M leaf + one 4K.
        m.Ok<Done>(MapOp(d, 0x4000_0000, 0x1_0000_0000, M4 + K4));
        Assert.Equal(
            [new Leaf(0x4000_0000, 0x1_0000_0000, M4, RW), new Leaf(0x4040_0000, 0x1_0040_0000, K4, RW)],
            m.State.Domain(d)!.Leaves.Values);
        // 512 GiB is not offered (hardware bug): a 512 GiB map at 1 TiB (IOVA and PA) takes two
        // 256 GiB leaves.
        m.Ok<Done>(MapOp(d, 0x100_0000_0000, 0x100_0000_0000, 0x80_0000_0000));
        Assert.Equal(
            [new Leaf(0x100_0000_0000, 0x100_0000_0000, 0x40_0000_0000, RW), new Leaf(0x140_0000_0000, 0x140_0000_0000, 0x40_0000_0000, RW)],
            m.State.Domain(d)!.Leaves.Values.Where(l => l.Iova >= 0x100_0000_0000));
    }

    [Fact]
    public void OverlappingMapIsRefusedAndChangesNothing()
    {
        var (m, d) = Unmanaged();
        m.Ok<Done>(MapOp(d, 0x4000_0000, 0x1_0000_0000, M4 + K4));
        // exactly on the 4K leaf
        m.RefusedWithoutChange(MapOp(d, 0x4040_0000, 0x1_0100_0000, K4), DmaErrorKind.AddressInUse);
        // straddling the end of the second 2M leaf, or the start of the first: any overlap refuses
        // the whole map
        m.RefusedWithoutChange(MapOp(d, 0x403F_F000, 0x1_0100_0000, 0x2000), DmaErrorKind.AddressInUse);
        m.RefusedWithoutChange(MapOp(d, 0x3FFF_F000, 0x1_0100_0000, 0x2000), DmaErrorKind.AddressInUse);
        // the page right after the mapping is free
        m.Ok<Done>(MapOp(d, 0x4040_1000, 0x1_0100_0000, K4));
    }

    [Fact]
    public void PartialUnmapOfALargePageRemovesAllOfIt()
    {
        var (m, d) = Unmanaged();
        m.Ok<Done>(MapOp(d, 0x4000_0000, 0x1_0000_0000, M4 + K4));
        // First 4 KiB of the first 2 MiB leaf → the whole leaf goes, 0x20_0000 reported, and the
        // next 2 MiB leaf stays.
        Assert.Equal(new Unmapped(0x20_0000), m.Apply(new IommuUnmap(d, new Iova(0x4000_0000), K4)));
        var leaves = m.State.Domain(d)!.Leaves.Values;
        Assert.Equal([0x4020_0000UL, 0x4040_0000UL], leaves.Select(l => l.Iova));
        // A request spanning the rest: 2 MiB + 4 KiB.
        Assert.Equal(new Unmapped(M2 + K4), m.Apply(new IommuUnmap(d, new Iova(0x4020_0000), M2 + K4)));
        Assert.Empty(m.State.Domain(d)!.Leaves);
    }

    [Fact]
    public void UnmapStopsAtAHole()
    {
        var (m, d) = Unmanaged();
        Assert.Equal(new Unmapped(0), m.Apply(new IommuUnmap(d, new Iova(0x8000_0000), K4)));
        m.Ok<Done>(MapOp(d, 0x8000_0000, 0x1_0000_0000, K4));
        m.Ok<Done>(MapOp(d, 0x8000_2000, 0x1_0000_2000, K4));
        // 0x8000_0000 is mapped, 0x8000_1000 is a hole: only the first page is unmapped.
        Assert.Equal(new Unmapped(K4), m.Apply(new IommuUnmap(d, new Iova(0x8000_0000), 0x3000)));
        Assert.Single(m.State.Domain(d)!.Leaves);
        // Unaligned unmap requests unmap nothing.
        Assert.Equal(new Unmapped(0), m.Apply(new IommuUnmap(d, new Iova(0x8000_2800), K4)));
        Assert.Single(m.State.Domain(d)!.Leaves);
    }

    [Theory]
    [InlineData("x86-vtd", 0xFEE0_0000UL)]     // MSI window
    [InlineData("x86-vtd", 0xFEEF_F000UL)]     // its last page
    [InlineData("amd-vi", 0xFEE8_0000UL)]      // MSI window
    [InlineData("amd-vi", 0xFD_0000_0000UL)]   // HyperTransport hole (Reserved)
    [InlineData("amd-vi", 0xFF_FFFF_F000UL)]   // its last page
    public void MsiAndReservedRegionsAreNeverMapped(string preset, ulong iova)
    {
        var (m, d) = Unmanaged(preset);
        m.RefusedWithoutChange(MapOp(d, iova, 0x1_0000_0000, K4), DmaErrorKind.ReservedRange);
        // a map that only grazes the region is refused as well
        m.RefusedWithoutChange(MapOp(d, iova - M2, 0x1_0000_0000, M2 + K4), DmaErrorKind.ReservedRange);
    }

    [Fact]
    public void DmaAndIdentityDomainsRefuseTheIommuApi()
    {
        var m = New("x86-vtd");
        int dma = m.State.Device(0)!.Domain!.Value;
        m.RefusedWithoutChange(MapOp(dma, 0x4000_0000, 0x1_0000_0000, K4), DmaErrorKind.WrongDomainType);
        m.RefusedWithoutChange(new IommuUnmap(dma, new Iova(0x7A00_0000), K4), DmaErrorKind.WrongDomainType);
        int identity = m.AllocDomainOk(0, DomainType.Identity);
        m.RefusedWithoutChange(MapOp(identity, 0x4000_0000, 0x1_0000_0000, K4), DmaErrorKind.WrongDomainType);
    }

    [Fact]
    public void AttachedDeviceSeesTheUnmanagedMappings()
    {
        var (m, d) = Unmanaged();
        m.Ok<Done>(MapOp(d, 0x4000_0000, 0x1_0000_0000, M4 + K4, Prot.Read));
        m.Ok<Done>(new Attach(3, d));
        m.Reaches(3, 0x4020_0010, 0x1_0020_0010, 0x100, write: false);
        m.Refused(Access(3, 0x4020_0010, 4, write: true), DmaErrorKind.PermissionFault);
        // The DMA API does not map into an unmanaged domain.
        m.RefusedWithoutChange(new Map(3, new PhysAddr(0x1_0000_0000), K4, Bidi), DmaErrorKind.WrongDomainType);
        // After iommu_unmap (synced at once) the access faults.
        Assert.Equal(new Unmapped(M2), m.Apply(new IommuUnmap(d, new Iova(0x4020_0000), M2)));
        m.Faults(3, 0x4020_0010, 4, write: false);
    }
}
