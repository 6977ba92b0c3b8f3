using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>
/// What the hardware does with a bus address: bypass rules, the GART aperture, the DDW direct
/// window, hardware MSI windows, and for paging domains the IOTLB first and then the page
/// table. Successful walks are cached in the IOTLB of the device's IOMMU (one entry per leaf),
/// so an IOVA unmapped lazily may still be reached until the next flush; an implementation may
/// instead fault there (its IOTLB need not hold the walk), and the model adopts that.
/// </summary>
public sealed partial class ModelSystem
{
    private Outcome DoDeviceAccess(DeviceAccess op)
    {
        if (!TryDevice(op.Device, out var device, out var config, out var error)) return error!;
        if (!TryResolve(device.Id, op.Address, out ulong address))
            return Fail(DmaErrorKind.UnknownHandle, $"device {device.Id} has no live mapping {op.Address}");
        if (op.Length == 0) return Fail(DmaErrorKind.InvalidArgument, "access of 0 bytes");
        if (!AddrRange.TryFromLength(address, op.Length, out var range))
            return Fail(DmaErrorKind.Overflow, $"access {Hex.Format(address)}+{Hex.Format(op.Length)} wraps past 2^64");
        if (range.Last > device.DmaMask)
            return Fail(DmaErrorKind.NotCapable, $"device {device.Id} cannot drive {range}: its mask is {Hex.Format(device.DmaMask)}");

        var route = RouteOf(device, config, out var domain);
        var fills = new List<IotlbEntry>();
        var chunks = new List<AccessChunk>();
        ulong cursor = range.Start;
        while (true)
        {
            ulong remaining = (ulong)(range.End - cursor);
            var step = Translate(device, config, route, domain, cursor, remaining, op.Write, fills);
            if (step.Error is Failed failed) return failed;
            ulong length = Math.Min(step.Length, remaining);
            var last = chunks.Count > 0 ? chunks[^1] : null;
            if (last is not null && last.Dma + last.Length == cursor && last.Phys.Value + last.Length == step.Phys)
                chunks[^1] = last with { Length = last.Length + length };
            else
                chunks.Add(new AccessChunk(cursor, new PhysAddr(step.Phys), length));
            if (length == remaining) break;
            cursor += length;
        }
        foreach (var entry in fills)
            if (domain is not null && !domain.Iotlb.Contains(entry)) AddToList(domain.Iotlb, entry);
        return new Accessed(chunks.ToValueList());
    }

    private readonly record struct Step(ulong Phys, ulong Length, Failed? Error);

    private static Step Fault(DmaErrorKind kind, string message) => new(0, 0, new Failed(kind, message));

    private Step Translate(DeviceState device, DeviceConfig config, Route route, DomainState? domain, ulong addr, ulong remaining, bool write, List<IotlbEntry> fills)
    {
        switch (route)
        {
            case Route.Blocked:
                return Fault(DmaErrorKind.Fault, $"device {device.Id} is in blocked domain {domain!.Id}: {Hex.Format(addr)} aborts");
            case Route.VirtioBypass or Route.Direct:
                return PhysicalTarget(addr, remaining);
            case Route.Gart:
                if (domain!.Aperture.Contains(addr))
                {
                    if (LeafAt(domain, addr) is not Leaf leaf)
                        return Fault(DmaErrorKind.Fault, $"GART aperture page {Hex.Format(addr & ~0xFFFUL)} is not mapped: the access aborts");
                    return new Step(leaf.Phys + (addr - leaf.Iova), leaf.Iova + leaf.Size - addr, null);
                }
                var outside = PhysicalTarget(addr, remaining);
                if (outside.Error is null && addr < domain.Aperture.Start)
                    outside = outside with { Length = Math.Min(outside.Length, domain.Aperture.Start - addr) };
                return outside;
            case Route.Tce:
                var tce = Platform.Iommu(domain!.Iommu)!.Tce!;
                if (device.DdwActive && addr >= tce.DdwOffset && addr <= device.BusDmaLimit)
                {
                    var direct = PhysicalTarget(addr - tce.DdwOffset, remaining, ramOnly: true);
                    return direct.Error is null ? direct with { Length = Math.Min(direct.Length, device.BusDmaLimit - addr + 1) } : direct;
                }
                if (!domain.Aperture.Contains(addr))
                    return Fault(DmaErrorKind.Fault, $"{Hex.Format(addr)} is in no DMA window of device {device.Id}");
                return WalkTable(domain, addr, write, null, fills);
            default:
                foreach (var region in IommusOf(domain!).SelectMany(i => i.Regions).Where(r => r.Type == ReservedRegionType.Msi))
                {
                    if (!region.Range.Contains(addr)) continue;
                    if (!write) return Fault(DmaErrorKind.PermissionFault, $"{Hex.Format(addr)} is in the MSI window {region.Range}: writes only");
                    return new Step(addr, region.Range.Last - addr + 1, null);
                }
                return WalkTable(domain!, addr, write, config.Iommu, fills);
        }
    }

    /// <summary>IOTLB first (paging IOMMUs), then the page table; permissions checked.</summary>
    private Step WalkTable(DomainState domain, ulong addr, bool write, int? iommu, List<IotlbEntry> fills)
    {
        var leaf = LeafAt(domain, addr);
        if (iommu is int unit)
        {
            var cached = domain.Iotlb.Concat(fills).FirstOrDefault(e => e.Iommu == unit && e.Range.Contains(addr));
            if (cached is not null)
            {
                bool stale = leaf is null || leaf.Iova != cached.Iova || leaf.Phys != cached.Phys || leaf.Prot != cached.Prot;
                // A stale entry that denies this access gives a permission fault when the
                // implementation still holds it; a proposed fault of another kind means it did not.
                bool staleDenies = Permitted(cached.Prot, write, addr) is not null;
                if (stale && _proposed is Failed { Kind: DmaErrorKind.Fault or DmaErrorKind.PermissionFault } proposedFault &&
                    !(proposedFault.Kind == DmaErrorKind.PermissionFault && staleDenies))
                    RemoveFromList(domain.Iotlb, cached); // the implementation's IOTLB did not hold this walk
                else
                    return Permitted(cached.Prot, write, addr) ?? new Step(cached.Phys + (addr - cached.Iova), cached.Iova + cached.Size - addr, null);
            }
        }
        if (leaf is null)
            return Fault(DmaErrorKind.Fault, $"translation fault: {Hex.Format(addr)} is not mapped in domain {domain.Id}");
        if (Permitted(leaf.Prot, write, addr) is Step denied) return denied;
        if (iommu is int id) fills.Add(new IotlbEntry(id, leaf.Iova, leaf.Phys, leaf.Size, leaf.Prot));
        return new Step(leaf.Phys + (addr - leaf.Iova), leaf.Iova + leaf.Size - addr, null);
    }

    private static Step? Permitted(Prot prot, bool write, ulong addr)
    {
        var need = write ? Prot.Write : Prot.Read;
        return (prot & need) != 0 ? null : Fault(DmaErrorKind.PermissionFault, $"{(write ? "write" : "read")} of {Hex.Format(addr)} denied: the mapping grants {prot}");
    }

    /// <summary>A bus address that reaches physical memory unchanged: it must hit RAM or MMIO.</summary>
    private Step PhysicalTarget(ulong phys, ulong remaining, bool ramOnly = false)
    {
        var target = Platform.Ram.Concat(ramOnly ? [] : Platform.Mmio).Cast<AddrRange?>().FirstOrDefault(r => r!.Value.Contains(phys));
        if (target is not AddrRange hit)
            return Fault(DmaErrorKind.Fault, $"{Hex.Format(phys)} reaches no {(ramOnly ? "RAM" : "RAM or MMIO")}: bus abort");
        return new Step(phys, Math.Min(remaining, hit.Last - phys + 1 == 0 ? ulong.MaxValue : hit.Last - phys + 1), null);
    }
}
