using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>
/// What the hardware does with a bus address: bypass rules, the GART aperture, the DDW direct
/// window, hardware MSI windows, and for paging domains the IOTLB first and then the page
/// table. Successful walks are cached in the IOTLB of the device's IOMMU (one entry per leaf),
/// so an IOVA unmapped lazily may still be reached until the next flush; an implementation may
/// instead fault there (its IOTLB need not hold the walk), and the model adopts that.
/// The walk goes a run of leaves at a time, but a page whose start is cached is always looked
/// up in the IOTLB first, exactly as a leaf-by-leaf walk does.
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
        var fills = new List<PageRun>();
        var chunks = new List<AccessChunk>();
        ulong cursor = range.Start;
        while (true)
        {
            ulong remaining = (ulong)(range.End - cursor);
            var step = Translate(device, config, route, domain?.Id, cursor, remaining, op.Write, fills);
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
        if (domain is not null && config.Iommu is int unit) CacheWalks(domain.Id, unit, fills);
        return new Accessed(chunks.ToValueList());
    }

    private readonly record struct Step(ulong Phys, ulong Length, Failed? Error);

    private static Step Fault(DmaErrorKind kind, string message) => new(0, 0, new Failed(kind, message));

    /// <summary>Bytes from <paramref name="address"/> to <paramref name="last"/> inclusive
    /// (saturating at 2^64 − 1).</summary>
    private static ulong Through(ulong address, ulong last) => last - address == ulong.MaxValue ? ulong.MaxValue : last - address + 1;

    private Step Translate(ModelDevice device, DeviceConfig config, Route route, int? domainId, ulong addr, ulong remaining, bool write, List<PageRun> fills)
    {
        switch (route)
        {
            case Route.Blocked:
                return Fault(DmaErrorKind.Fault, $"device {device.Id} is in blocked domain {domainId}: {Hex.Format(addr)} aborts");
            case Route.VirtioBypass or Route.Direct:
                return PhysicalTarget(addr, remaining);
            case Route.Gart:
            {
                var domain = Dom(domainId!.Value);
                if (domain.Aperture.Contains(addr))
                {
                    if (domain.RunAt(addr) is not PageRun run)
                        return Fault(DmaErrorKind.Fault, $"GART aperture page {Hex.Format(addr & ~0xFFFUL)} is not mapped: the access aborts");
                    return new Step(run.Phys + (addr - run.Iova), Through(addr, run.Last), null);
                }
                var outside = PhysicalTarget(addr, remaining);
                if (outside.Error is null && addr < domain.Aperture.Start)
                    outside = outside with { Length = Math.Min(outside.Length, domain.Aperture.Start - addr) };
                return outside;
            }
            case Route.Tce:
            {
                var domain = Dom(domainId!.Value);
                var tce = _index.Iommu(domain.Iommu)!.Tce!;
                if (device.DdwActive && addr >= tce.DdwOffset && addr <= device.BusDmaLimit)
                {
                    var direct = PhysicalTarget(addr - tce.DdwOffset, remaining, ramOnly: true);
                    return direct.Error is null ? direct with { Length = Math.Min(direct.Length, device.BusDmaLimit - addr + 1) } : direct;
                }
                if (!domain.Aperture.Contains(addr))
                    return Fault(DmaErrorKind.Fault, $"{Hex.Format(addr)} is in no DMA window of device {device.Id}");
                return WalkTable(domain.Id, addr, write, null, fills);
            }
            default:
            {
                var domain = Dom(domainId!.Value);
                foreach (var iommu in IommusOf(domain))
                    foreach (var region in iommu.Regions)
                    {
                        if (region.Type != ReservedRegionType.Msi || !region.Range.Contains(addr)) continue;
                        if (!write) return Fault(DmaErrorKind.PermissionFault, $"{Hex.Format(addr)} is in the MSI window {region.Range}: writes only");
                        return new Step(addr, region.Range.Last - addr + 1, null);
                    }
                return WalkTable(domain.Id, addr, write, config.Iommu, fills);
            }
        }
    }

    /// <summary>IOTLB first (paging IOMMUs), then the page table; permissions checked.</summary>
    private Step WalkTable(int domainId, ulong addr, bool write, int? iommu, List<PageRun> fills)
    {
        var domain = Dom(domainId);
        var run = domain.RunAt(addr);
        if (iommu is int unit && domain.IotlbOf(unit).FirstOverlapping(addr, addr, out var hit))
        {
            var cached = hit.Value.LeafAt(addr);
            var leaf = run?.LeafAt(addr);
            bool stale = leaf is null || leaf.Iova != cached.Iova || leaf.Phys != cached.Phys || leaf.Prot != cached.Prot;
            // A stale entry that denies this access gives a permission fault when the
            // implementation still holds it; a proposed fault of another kind means it did not.
            bool staleDenies = Permitted(cached.Prot, write, addr) is not null;
            if (stale && _proposed is Failed { Kind: DmaErrorKind.Fault or DmaErrorKind.PermissionFault } proposedFault &&
                !(proposedFault.Kind == DmaErrorKind.PermissionFault && staleDenies))
                DropCachedLeaf(domainId, unit, cached); // the implementation's IOTLB did not hold this walk
            else
            {
                if (Permitted(cached.Prot, write, addr) is Step denied) return denied;
                // A fresh cached run that agrees page for page with the leaves serves them all.
                ulong last = cached.Range.Last;
                if (!stale && run!.PageSize == hit.Value.PageSize && run.SameOffsetAs(hit.Value) && run.Prot == hit.Value.Prot)
                    last = Math.Min(run.Last, hit.Value.Last);
                return new Step(cached.Phys + (addr - cached.Iova), Through(addr, last), null);
            }
        }
        if (run is null)
            return Fault(DmaErrorKind.Fault, $"translation fault: {Hex.Format(addr)} is not mapped in domain {domain.Id}");
        if (Permitted(run.Prot, write, addr) is Step refused) return refused;
        ulong first = run.PageIndex(addr), end = run.Count; // pages [first, end) are walked
        if (iommu is int id)
        {
            // Stop before the first later page whose start a cached walk holds: it is served from the IOTLB.
            var tlb = Dom(domainId).IotlbOf(id);
            ulong from = run.Iova + (first + 1) * run.PageSize;
            if (first + 1 < run.Count)
                foreach (var e in tlb.Overlapping(from, run.Last))
                {
                    ulong k = e.Start <= run.Iova ? 0 : (e.Start - run.Iova + run.PageSize - 1) / run.PageSize;
                    k = Math.Max(k, first + 1);
                    if (k < end && run.Iova + k * run.PageSize <= e.Last) { end = k; break; }
                }
            fills.Add(run.Slice(first, end - first));
        }
        ulong pageStart = run.Iova + first * run.PageSize;
        return new Step(run.Phys + (addr - run.Iova), Through(addr, pageStart + (end - first) * run.PageSize - 1), null);
    }

    private static Step? Permitted(Prot prot, bool write, ulong addr)
    {
        var need = write ? Prot.Write : Prot.Read;
        return (prot & need) != 0 ? null : Fault(DmaErrorKind.PermissionFault, $"{(write ? "write" : "read")} of {Hex.Format(addr)} denied: the mapping grants {prot}");
    }

    /// <summary>A bus address that reaches physical memory unchanged: it must hit RAM or MMIO.</summary>
    private Step PhysicalTarget(ulong phys, ulong remaining, bool ramOnly = false)
    {
        if (_index.MemoryAt(phys, ramOnly) is not AddrRange hit)
            return Fault(DmaErrorKind.Fault, $"{Hex.Format(phys)} reaches no {(ramOnly ? "RAM" : "RAM or MMIO")}: bus abort");
        return new Step(phys, Math.Min(remaining, Through(phys, hit.Last)), null);
    }
}
