using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>
/// MSI doorbells. Hardware MSI windows (x86 0xFEE0_0000…) are untranslated: the message
/// address is the doorbell. Any other doorbell is mapped by a DMA domain on demand at an IOVA
/// from its allocator (within the device's mask; the DMA cookie needs no SW_MSI window), and by
/// an unmanaged domain into its IOMMU's SW_MSI window by a bump pointer; either way the page is
/// mapped once per domain and reused. Unmanaged domains of an IOMMU without a SW_MSI window have
/// no MSI cookie, and devices without translation use the doorbell as is.
/// </summary>
public sealed partial class ModelSystem
{
    private Outcome DoSetupMsi(SetupMsi op)
    {
        if (!TryDevice(op.Device, out var device, out var config, out var error)) return error!;
        ulong doorbell = op.Doorbell.Value;
        if (!_index.IsMmio(new AddrRange(doorbell, doorbell)))
            return Fail(DmaErrorKind.NotMmio, $"doorbell {op.Doorbell} is not an MMIO address on {Platform.Preset}");
        var route = RouteOf(device, config, out var domain);
        if (route == Route.Blocked) return Fail(DmaErrorKind.DomainBlocked, $"device {device.Id} is in blocked domain {domain!.Id}");
        if (route is not (Route.Iommu or Route.Unmanaged)) return new Mapped(new DmaAddr(doorbell));

        var regions = IommusOf(domain!).SelectMany(i => i.Regions).ToList();
        if (regions.Any(r => r.Type == ReservedRegionType.Msi && r.Range.Contains(doorbell)))
            return new Mapped(new DmaAddr(doorbell));
        var swMsi = regions.FirstOrDefault(r => r.Type == ReservedRegionType.SwMsi);
        // An unmanaged domain gets an MSI cookie only when its IOMMU has a SW_MSI window (VFIO's
        // iommu_get_msi_cookie); without a cookie MSIs stay untranslated.
        if (route == Route.Unmanaged && swMsi is null) return new Mapped(new DmaAddr(doorbell));

        ulong granule = domain!.Granule, page = IovaSpace.AlignDown(doorbell, granule), offset = doorbell - page;
        if (domain.MsiPages.Find(p => p.DoorbellPage == page) is MsiPage existing)
            return new Mapped(new DmaAddr(existing.Iova + offset));

        ulong iova;
        if (route == Route.Unmanaged && swMsi is not null)
        {
            // iommu_get_msi_cookie: a bump allocator over the SW_MSI window.
            iova = domain.MsiBump;
            if (iova < swMsi.Range.Start || iova > swMsi.Range.Last || swMsi.Range.Last - iova < granule - 1)
                return Fail(DmaErrorKind.OutOfIova, $"the software MSI window {swMsi.Range} is full");
            if (domain.RunsOverlapping(AddrRange.FromLength(iova, granule)).FirstOrDefault() is PageRun taken)
                return Fail(DmaErrorKind.AddressInUse, $"the next MSI slot {Hex.Format(iova)} is already mapped by {taken.LeafAt(Math.Max(iova, taken.Iova))}");
            UpdateDomainSettings(domain.Id, d => d with { MsiBump = iova + granule });
        }
        else
        {
            ulong limit = DmaLimit(device, device.DmaMask, domain);
            ulong? hint = ProposedDma is ulong d ? d - offset : null;
            var range = ChooseIova(device.Id, domain.Id, granule, limit, ulong.MaxValue, hint);
            if (range is null) return Fail(DmaErrorKind.OutOfIova, $"no IOVA for an MSI page below {Hex.Format(limit)} in domain {domain.Id}");
            AddAllocation(domain.Id, range.Value, AllocationOwner.MsiPage);
            iova = range.Value.Start;
        }
        AddLeaves(domain.Id, [new PageRun(iova, page, granule, 1, Prot.Write)]);
        AddMsiPage(domain.Id, new MsiPage(page, iova));
        return new Mapped(new DmaAddr(iova + offset));
    }
}
