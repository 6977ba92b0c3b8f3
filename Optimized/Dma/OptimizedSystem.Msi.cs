using DmaVerify.Contracts;

namespace DmaVerify.Optimized.Dma;

/// <summary>MSI doorbells: hardware windows untranslated, DMA domains map the page from their
/// allocator, unmanaged domains bump through the SW_MSI window; one page per domain, reused.</summary>
public sealed partial class OptimizedSystem
{
    private Outcome DoSetupMsi(SetupMsi op)
    {
        if (!TryDevice(op.Device, out var device, out var error)) return error!;
        ulong doorbell = op.Doorbell.Value;
        if (!Platform.IsMmio(new AddrRange(doorbell, doorbell))) return Fail(DmaErrorKind.NotMmio, $"doorbell {op.Doorbell} is not MMIO");
        var route = OpsOf(device, out var domain).Kind;
        if (route == Route.Blocked) return Fail(DmaErrorKind.DomainBlocked, $"device {device.Id} is in a blocked domain");
        if (route is not (Route.Iommu or Route.Unmanaged)) return new Mapped(new DmaAddr(doorbell));
        var regions = IommusOf(domain!).SelectMany(i => i.Regions).ToList();
        if (regions.Any(r => r.Type == ReservedRegionType.Msi && r.Range.Contains(doorbell))) return new Mapped(new DmaAddr(doorbell));
        var swMsi = regions.FirstOrDefault(r => r.Type == ReservedRegionType.SwMsi);
        if (route == Route.Unmanaged && swMsi is null) return new Mapped(new DmaAddr(doorbell));
        ulong granule = domain!.Granule, page = Pow2Math.AlignDown(doorbell, granule), offset = doorbell - page;
        if (domain.MsiPages.TryGetValue(page, out var existing)) return new Mapped(new DmaAddr(existing.Iova + offset));
        ulong iova;
        if (route == Route.Unmanaged && swMsi is not null)
        {
            iova = domain.MsiBump;
            if (iova < swMsi.Range.Start || iova > swMsi.Range.Last || swMsi.Range.Last - iova < granule - 1)
                return Fail(DmaErrorKind.OutOfIova, $"the software MSI window {swMsi.Range} is full");
            for (ulong a = iova; a - iova < granule; a += domain.Granule)
                if (domain.Table.Translate(a) is not null) return Fail(DmaErrorKind.AddressInUse, $"the next MSI slot {Hex.Format(iova)} is already mapped");
            ulong old = domain.MsiBump;
            domain.MsiBump = iova + granule;
            OnUndo(() => domain.MsiBump = old);
        }
        else
        {
            var range = AllocIova(device, domain, granule, DmaLimit(device, device.DmaMask, domain), ulong.MaxValue);
            if (range is null) return Fail(DmaErrorKind.OutOfIova, $"no IOVA for an MSI page in domain {domain.Id}");
            AddAllocation(domain, new IovaAllocation(range.Value, AllocationOwner.MsiPage));
            iova = range.Value.Start;
        }
        if (MapLeaves(domain, iova, page, granule, Prot.Write) is Failed failed) return failed;
        var msi = new MsiPage(page, iova);
        domain.MsiPages[page] = msi;
        OnUndo(() => domain.MsiPages.Remove(page));
        return new Mapped(new DmaAddr(iova + offset));
    }
}
