using DmaVerify.Contracts;

namespace DmaVerify.Optimized.Dma;

/// <summary>The model's <see cref="SystemState"/> shape, so the invariant checker runs on this system.</summary>
public sealed partial class OptimizedSystem
{
    public SystemState ExportState()
    {
        lock (_gate) return ExportStateLocked();
    }

    private SystemState ExportStateLocked()
    {
        var state = new SystemState { Platform = Platform, NowMs = _nowMs };
        foreach (var d in _devices.Values.OrderBy(d => d.Id))
            state.Devices.Add(new DeviceState
            {
                Id = d.Id, DmaMask = d.DmaMask, CoherentMask = d.CoherentMask, BusDmaLimit = d.BusDmaLimit,
                Domain = d.Domain, Pci32First = d.Pci32First, DdwActive = d.DdwActive,
            });
        foreach (var dom in _domains.Values)
        {
            var ds = new DomainState
            {
                Id = dom.Id, Iommu = dom.Iommu, Type = dom.Type, Format = dom.Format, Aperture = dom.Aperture,
                ForceAperture = dom.ForceAperture, Policy = dom.Policy, AllocStart = dom.AllocStart, IsDefault = dom.IsDefault,
                Allocations = [.. dom.Allocations.Values], Reserved = [.. dom.Reserved],
                Iotlb = [.. dom.Iotlb.Values], FlushQueue = [.. dom.FlushQueue],
                FlushStarted = dom.FlushStarted, FlushFinished = dom.FlushFinished, TimerDeadline = dom.TimerDeadline,
                MsiPages = [.. dom.MsiPages.Values], MsiBump = dom.MsiBump,
                TablePages = dom.Table.TablePages + dom.Table.PendingFreeTablePages, PendingFreeTablePages = dom.Table.PendingFreeTablePages,
            };
            var leaves = dom.Table.Leaves().ToList();
            ds.Leaves.Capacity = leaves.Count; // walked in IOVA order: each Add appends
            foreach (var leaf in leaves) ds.Leaves.Add(leaf.Iova, leaf);
            state.Domains.Add(ds);
        }
        foreach (var m in _devices.Values.SelectMany(d => d.Mappings.InOrder()).OrderBy(m => m.Id)) state.Mappings.Add(m.Clone());
        foreach (var b in _bounces.Values) state.Bounces.Add(b);
        return state;
    }
}
