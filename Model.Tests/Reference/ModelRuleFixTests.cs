using DmaVerify.Contracts;
using DmaVerify.Model;
using static DmaVerify.Tests.Model.Kit;

namespace DmaVerify.Tests.Model;

/// <summary>
/// Four places where the model used to break its own invariants (docs/model-semantics.md has
/// each rule and its Linux source): dma-direct and the GART aperture (INV-04), user
/// iommu_map over reserved regions (INV-03), virtio without ACCESS_PLATFORM behind GART/TCE
/// (INV-13 in the initial state), and exhaustion of a list mapped in several allocations
/// (INV-11 in Check mode).
/// </summary>
public class ModelRuleFixTests
{
    private const Prot RW = Prot.Read | Prot.Write;
    private static readonly AddrRange Aperture = Presets.K8Aperture;

    /// <summary>k8-gart with device 3: no IOMMU, 32-bit masks (dma-direct).</summary>
    private static ModelSystem GartWithDirectDevice() =>
        New(WithDevices("k8-gart", new DeviceConfig { Id = 3, Name = "x", DmaMask = 0xFFFF_FFFF, CoherentMask = 0xFFFF_FFFF }));

    [Theory]
    [InlineData(0x4010_0000UL, 0x1000UL)] // inside
    [InlineData(0x3FFF_F000UL, 0x2000UL)] // straddles the start
    [InlineData(0x43FF_FFFFUL, 0x1UL)]    // the last byte
    public void DirectDeviceIsNotHandedABusAddressInTheGartAperture(ulong phys, ulong length)
    {
        var m = GartWithDirectDevice();
        var failed = m.RefusedWithoutChange(new Map(3, new PhysAddr(phys), length, DmaDirection.ToDevice), DmaErrorKind.NotCapable);
        Assert.Contains("GART aperture", failed.Error.Message);
        m.RefusedWithoutChange(new AllocCoherent(3, new PhysAddr(Aperture.Start + 0x10_0000), 0x1000), DmaErrorKind.NotCapable);
        Assert.Empty(InvariantChecker.Check(m.State));
    }

    [Fact]
    public void DirectDeviceRightOutsideTheApertureStaysOneToOne()
    {
        var m = GartWithDirectDevice();
        Assert.Equal(Aperture.Last + 1, m.MapOk(3, Aperture.Last + 1, 0x1000).Dma.Value);
        Assert.Equal(Aperture.Start - 0x1000, m.MapOk(3, Aperture.Start - 0x1000, 0x1000).Dma.Value);
        Assert.Empty(InvariantChecker.Check(m.State));
    }

    [Fact]
    public void DirectDeviceInTheApertureBouncesWhereThereIsASwiotlbPool()
    {
        // The same k8-gart with a swiotlb pool below the aperture: dma-direct bounces.
        var platform = WithDevices("k8-gart", new DeviceConfig { Id = 3, Name = "x", DmaMask = 0xFFFF_FFFF, CoherentMask = 0xFFFF_FFFF }) with
        {
            SwiotlbPool = new AddrRange(0x3C00_0000, 0x3FFF_FFFF),
        };
        var m = New(platform);
        var mapped = m.MapOk(3, 0x4010_0000, 0x1000, DmaDirection.ToDevice);
        Assert.Equal(0x3C00_0000UL, mapped.Dma.Value);
        Assert.Equal(new PhysAddr(0x3C00_0000), mapped.Bounce);
        Assert.Empty(InvariantChecker.Check(m.State));
    }

    private static IommuMap UserMap(int domain, ulong iova, ulong size = 0x1000) =>
        new(domain, new Iova(iova), new PhysAddr(0x1000_0000), size, RW);

    [Theory]
    [InlineData("x86-vtd", 0x7A00_0000UL, 0x7A0F_FFFFUL)]  // an RMRR (Direct)
    [InlineData("amd-vi", 0x7B00_0000UL, 0x7B00_FFFFUL)]   // an IVRS unity map (Direct)
    [InlineData("arm-smmu", 0x0800_0000UL, 0x080F_FFFFUL)] // the SW_MSI window
    public void UserMapOverAReservedRegionIsRefused(string preset, ulong first, ulong last)
    {
        var m = New(preset);
        int domain = m.AllocDomainOk(0, DomainType.Unmanaged);
        var failed = m.RefusedWithoutChange(UserMap(domain, first), DmaErrorKind.ReservedRange);
        Assert.Contains("reserved IOVA for user mappings", failed.Error.Message);
        m.RefusedWithoutChange(UserMap(domain, last - 0xFFF), DmaErrorKind.ReservedRange);
        // Maps that only start before or end after the region are refused as well …
        m.RefusedWithoutChange(UserMap(domain, first - 0x1000, 0x2000), DmaErrorKind.ReservedRange);
        m.RefusedWithoutChange(UserMap(domain, last - 0xFFF, 0x2000), DmaErrorKind.ReservedRange);
        // … and the pages right beside it are open.
        m.Ok<Done>(UserMap(domain, first - 0x1000));
        m.Ok<Done>(UserMap(domain, last + 1));
        Assert.Empty(InvariantChecker.Check(m.State));
    }

    [Fact]
    public void UserMapOverARelaxableDirectRegionIsAllowed()
    {
        // VFIO and iommufd skip IOMMU_RESV_DIRECT_RELAXABLE; no preset has one, so add it.
        var relaxable = new ReservedRegion(new AddrRange(0x0100_0000, 0x01FF_FFFF), ReservedRegionType.DirectRelaxable);
        var platform = Presets.Get("x86-vtd");
        platform = platform with { Iommus = [platform.Iommus[0] with { Regions = [.. platform.Iommus[0].Regions, relaxable] }, .. platform.Iommus.Skip(1)] };
        var m = New(platform);
        int domain = m.AllocDomainOk(0, DomainType.Unmanaged);
        m.Ok<Done>(UserMap(domain, 0x0100_0000));
        Assert.Empty(InvariantChecker.Check(m.State));
    }

    [Fact]
    public void MsiPageInTheSwMsiWindowIsStillMappedAfterUserMapsWereRefusedThere()
    {
        var m = New("arm-smmu");
        int domain = m.AllocDomainOk(0, DomainType.Unmanaged);
        m.Refused(UserMap(domain, 0x0800_0000), DmaErrorKind.ReservedRange);
        m.Ok<Done>(new Attach(1, domain));
        var msi = m.Ok<Mapped>(new SetupMsi(1, new PhysAddr(0x0802_0040)));
        Assert.Equal(0x0800_0040UL, msi.Dma.Value);
        Assert.Empty(InvariantChecker.Check(m.State));
    }

    [Theory]
    [InlineData("k8-gart")]
    [InlineData("power-tce")]
    public void VirtioWithoutAccessPlatformBehindGartOrTceJoinsNoDomain(string preset)
    {
        var device = new DeviceConfig
        {
            Id = 4, Name = "legacy", Iommu = 0, IsPci = true, Virtio = false,
            DmaMask = BitMask(38), CoherentMask = BitMask(38), SegmentBoundaryMask = 0xFFFF_FFFF,
        };
        var m = New(WithDevices(preset, device));
        Assert.Empty(InvariantChecker.Check(m.State));
        Assert.Null(m.State.Device(4)!.Domain);
        // Physical addresses, outside any aperture.
        Assert.Equal(0x3D20_0000UL, m.MapOk(4, 0x3D20_0000, 0x10).Dma.Value);
        Assert.Empty(InvariantChecker.Check(m.State));
    }

    private static ModelSystem TceWith64KiBBoundary() =>
        New(WithDevices("power-tce", new DeviceConfig
        {
            Id = 3, Name = "gen3", Iommu = 0, IsPci = true, DmaMask = ulong.MaxValue, CoherentMask = ulong.MaxValue, SegmentBoundaryMask = 0xFFFF,
        }));

    /// <summary>Entry 0 fits; entry 1 needs 0x11000 bytes (offset 0x47D + 64 KiB), more than
    /// one 64 KiB boundary segment can hold.</summary>
    private static MapSg EntryBeyondTheBoundary() =>
        new(3, ValueList.Of(new SgEntry(new PhysAddr(0x2E58_1C3C), 0x1), new SgEntry(new PhysAddr(0x3F39_347D), 0x1_0000)), Bidi);

    [Fact]
    public void ExhaustionOfALaterSgEntryIsJudgedAtThatEntry()
    {
        var m = TceWith64KiBBoundary();
        Assert.Equal(DmaErrorKind.OutOfIova, Assert.IsType<Failed>(m.DryRun(EntryBeyondTheBoundary())).Kind);
        var result = m.Check(EntryBeyondTheBoundary(), new Failed(DmaErrorKind.OutOfIova, "no room for 0x11000 bytes"));
        Assert.True(result.Agrees, result.Divergence?.ToString());
        Assert.Empty(m.State.Mappings);
        Assert.All(m.State.Domains, d => Assert.Empty(d.Allocations));
    }

    [Fact]
    public void ExhaustionClaimedWhenEveryEntryFitsIsStillAnInv11Divergence()
    {
        var m = TceWith64KiBBoundary();
        var fits = new MapSg(3, ValueList.Of(new SgEntry(new PhysAddr(0x2E58_1C3C), 0x1), new SgEntry(new PhysAddr(0x3F39_0000), 0x1000)), Bidi);
        var result = m.Check(fits, new Failed(DmaErrorKind.OutOfIova, "planted: no room"));
        Assert.Equal("INV-11", result.Divergence?.Invariant);
        Assert.Contains("all 2 entries fit", result.Divergence!.ToString());
        Assert.Empty(m.State.Mappings); // the model's trial placement was rolled back
    }
}
