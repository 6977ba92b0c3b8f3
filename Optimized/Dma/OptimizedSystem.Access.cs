using DmaVerify.Contracts;

namespace DmaVerify.Optimized.Dma;

/// <summary>DeviceAccess: bypass rules, GART aperture, DDW window, MSI windows, then the IOTLB
/// (a dictionary per domain keyed by (iommu, leaf IOVA)) and the page table.</summary>
public sealed partial class OptimizedSystem
{
    /// <summary>Drops the IOTLB entries overlapping <paramref name="range"/>. An entry is keyed by
    /// its leaf's IOVA, which is aligned to the leaf's size, one of the format's page sizes: so
    /// the entries a range can hit are found by probing, per IOMMU and page size, the aligned
    /// addresses in it — O(range / page size), independent of how many entries are cached. A
    /// range wider than the cache holds entries is cleared by one pass over the entries instead.</summary>
    private void InvalidateIotlb(Dom domain, AddrRange range)
    {
        var iotlb = domain.Iotlb;
        if (iotlb.Count == 0) return;
        if (Planted(OptimizedPlant.IotlbInvalidationMissesLastGranule) && range.Size > domain.Granule)
            range = new AddrRange(range.Start, range.Last - domain.Granule);
        var iommus = Platform.Iommus;
        ulong sizes = domain.Format.PageSizes, probes = 0;
        if (Planted(OptimizedPlant.IotlbInvalidationSkipsSuperpages)) sizes &= ~sizes + 1; // the granule alone
        for (ulong rest = sizes; rest != 0; rest &= rest - 1)
        {
            int shift = System.Numerics.BitOperations.TrailingZeroCount(rest);
            probes += ((range.Last >> shift) - (range.Start >> shift) + 1) * (ulong)iommus.Count;
        }
        if (probes > (ulong)iotlb.Count)
        {
            _staleKeys.Clear();
            foreach (var (key, entry) in iotlb)
                if (entry.Range.Overlaps(range) && (entry.Size == domain.Granule || !Planted(OptimizedPlant.IotlbInvalidationSkipsSuperpages))) _staleKeys.Add(key);
            foreach (var key in _staleKeys) iotlb.Remove(key);
            return;
        }
        for (ulong rest = sizes; rest != 0; rest &= rest - 1)
        {
            ulong size = rest & (~rest + 1);
            for (int u = 0; u < iommus.Count; u++)
                for (ulong leaf = range.Start & ~(size - 1); ; leaf += size)
                {
                    var key = (iommus[u].Id, leaf);
                    if (iotlb.TryGetValue(key, out var entry) && entry.Range.Overlaps(range)) iotlb.Remove(key);
                    if (range.Last - leaf < size) break; // the last leaf that can overlap
                }
        }
    }

    private readonly List<(int, ulong)> _staleKeys = [];

    private IotlbEntry? CachedWalk(Dom domain, int iommu, ulong addr, List<IotlbEntry> fills)
    {
        ulong sizes = domain.Format.PageSizes;
        while (sizes != 0)
        {
            ulong size = sizes & (~sizes + 1);
            sizes &= sizes - 1;
            if (domain.Iotlb.TryGetValue((iommu, addr & ~(size - 1)), out var e) && e.Range.Contains(addr)) return e;
        }
        foreach (var f in fills) if (f.Iommu == iommu && f.Range.Contains(addr)) return f;
        return null;
    }

    private Outcome DoDeviceAccess(DeviceAccess op)
    {
        if (!TryDevice(op.Device, out var device, out var error)) return error!;
        if (!TryResolve(device, op.Address, out ulong address)) return Fail(DmaErrorKind.UnknownHandle, $"no live mapping {op.Address}");
        if (op.Length == 0) return Fail(DmaErrorKind.InvalidArgument, "access of 0 bytes");
        if (!AddrRange.TryFromLength(address, op.Length, out var range)) return Fail(DmaErrorKind.Overflow, "access wraps past 2^64");
        if (range.Last > device.DmaMask) return Fail(DmaErrorKind.NotCapable, $"device {device.Id} cannot drive {range}");
        var ops = OpsOf(device, out var domain);
        var fills = new List<IotlbEntry>();
        var chunks = new List<AccessChunk>();
        for (ulong at = range.Start, left = op.Length; left > 0;)
        {
            var step = ops.Translate(this, device, domain, at, left, op.Write, fills);
            if (step.Error is Failed failed) return failed;
            ulong taken = Math.Min(step.Length, left);
            AppendCoalesced(chunks, at, step.Phys, taken);
            left -= taken;
            at += taken; // wraps to 0 only after the last piece of an access that ends at 2^64
        }
        if (domain is not null)
            foreach (var entry in fills) domain.Iotlb[(entry.Iommu, entry.Iova)] = entry;
        return new Accessed(chunks.ToValueList());
    }

    /// <summary>Adds a translated piece, growing the last chunk when the piece continues it in
    /// both DMA and physical address.</summary>
    private static void AppendCoalesced(List<AccessChunk> chunks, ulong dma, ulong phys, ulong length)
    {
        if (chunks.Count > 0 && chunks[^1] is var tail && tail.Dma + tail.Length == dma && tail.Phys.Value + tail.Length == phys)
            chunks[^1] = tail with { Length = tail.Length + length };
        else
            chunks.Add(new AccessChunk(dma, new PhysAddr(phys), length));
    }

    private readonly record struct Step(ulong Phys, ulong Length, Failed? Error);

    private static Step Fault(DmaErrorKind kind, string message) => new(0, 0, new Failed(kind, message));

    /// <summary>An access through a paging domain: its IOMMUs' hardware MSI windows (writes
    /// only), then the IOTLB and the page table.</summary>
    private Step TranslatePaging(Dev device, Dom domain, ulong addr, bool write, List<IotlbEntry> fills)
    {
        foreach (var iommu in IommusOf(domain))
            foreach (var region in iommu.Regions)
            {
                if (region.Type != ReservedRegionType.Msi || !region.Range.Contains(addr)) continue;
                if (!write) return Fault(DmaErrorKind.PermissionFault, $"{Hex.Format(addr)} is in the MSI window: writes only");
                return new Step(addr, region.Range.Last - addr + 1, null);
            }
        return WalkTable(domain, addr, write, device.Config.Iommu, fills);
    }

    private Step WalkTable(Dom domain, ulong addr, bool write, int? iommu, List<IotlbEntry> fills)
    {
        if (iommu is int unit && CachedWalk(domain, unit, addr, fills) is IotlbEntry cached)
            return Permitted(cached.Prot, write, addr) ?? new Step(cached.Phys + (addr - cached.Iova), cached.Iova + cached.Size - addr, null);
        if (domain.Table.Translate(addr) is not { } t) return Fault(DmaErrorKind.Fault, $"translation fault: {Hex.Format(addr)} in domain {domain.Id}");
        if (Permitted(t.Prot, write, addr) is Step denied) return denied;
        if (iommu is int id) fills.Add(new IotlbEntry(id, t.LeafIova, t.Pa - (addr - t.LeafIova), t.LeafSize, t.Prot));
        return new Step(t.Pa, t.LeafIova + t.LeafSize - addr, null);
    }

    private static Step? Permitted(Prot prot, bool write, ulong addr)
    {
        var need = write ? Prot.Write : Prot.Read;
        return (prot & need) != 0 ? null : Fault(DmaErrorKind.PermissionFault, $"{(write ? "write" : "read")} of {Hex.Format(addr)} denied");
    }

    private Step PhysicalTarget(ulong phys, ulong remaining, bool ramOnly = false)
    {
        foreach (var r in ramOnly ? Platform.Ram : Platform.Ram.Concat(Platform.Mmio))
            if (r.Contains(phys))
                return new Step(phys, Math.Min(remaining, r.Last - phys + 1 == 0 ? ulong.MaxValue : r.Last - phys + 1), null);
        return Fault(DmaErrorKind.Fault, $"{Hex.Format(phys)} reaches no memory: bus abort");
    }

    private IEnumerable<IommuConfig> IommusOf(Dom domain) =>
        _devices.Values.Where(d => d.Domain == domain.Id).Select(d => d.Config.Iommu).OfType<int>().Append(domain.Iommu)
            .Distinct().Select(id => IommuById(id)).OfType<IommuConfig>();
}
