using System.Collections.Immutable;
using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>Every change to the model's state goes through these helpers: each computes the next
/// persistent state from the current one and records what it touched in <see cref="Footprint"/>.
/// Values read before a change are stale after it: read the device or domain again by id.</summary>
public sealed partial class ModelSystem
{
    private ModelDevice Dev(int id) => _state.Device(id)!;

    private ModelDomain Dom(int id) => _state.Domain(id)!;

    private void SetDevice(ModelDevice device)
    {
        int index = _index.DeviceIndex(device.Id)!.Value;
        _state = _state with { Devices = _state.Devices.SetItem(index, device) };
        Footprint.Devices.Add(device.Id);
    }

    /// <summary>Clears a PCI device's 32-bit-first flag for good: Linux keeps this even when the
    /// op that failed its 32-bit pass fails as a whole (reference: dma-iommu's pci_32bit_workaround).</summary>
    private void ClearPci32FirstForGood(int device)
    {
        var d = Dev(device);
        if (!d.Pci32First) return;
        SetDevice(d with { Pci32First = false });
        _keptPci32Cleared.Add(device);
    }

    private void PutDomain(ModelDomain domain, bool created = false)
    {
        ulong key = (ulong)(uint)domain.Id;
        _state = _state with
        {
            Domains = created ? _state.Domains.Add(key, key, domain) : _state.Domains.Replace(key, key, domain),
        };
        if (created) Footprint.Domain(domain.Id).Created = true;
    }

    /// <summary>A change to a domain's own fields (type, timer, counters, MSI bump).</summary>
    private void UpdateDomainSettings(int id, Func<ModelDomain, ModelDomain> change)
    {
        PutDomain(change(Dom(id)));
        Footprint.Domain(id).Settings = true;
    }

    private void SetNow(ulong now)
    {
        _state = _state with { NowMs = now };
        Footprint.Time = true;
    }

    // ----- IOVA space -----

    private void AddAllocation(int domainId, AddrRange range, AllocationOwner owner)
    {
        var d = Dom(domainId);
        PutDomain(d with { Occupied = d.Occupied.Add(range, owner), AllocationCount = d.AllocationCount + 1 });
        Footprint.Domain(domainId).AllocationRanges.Add(range);
    }

    private void RemoveAllocation(int domainId, AddrRange range)
    {
        var d = Dom(domainId);
        PutDomain(d with { Occupied = d.Occupied.Remove(range.Start), AllocationCount = d.AllocationCount - 1 });
        Footprint.Domain(domainId).AllocationRanges.Add(range);
    }

    private void SetAllocationOwner(int domainId, AddrRange range, AllocationOwner owner)
    {
        var d = Dom(domainId);
        PutDomain(d with { Occupied = d.Occupied.Replace(range.Start, range.Last, owner) });
        Footprint.Domain(domainId).AllocationRanges.Add(range);
    }

    /// <summary>Lists a reserved range and adds it to the occupied union (merging with the
    /// reserved pieces it overlaps or touches). The caller has checked that no allocation overlaps.</summary>
    private void AddReserved(int domainId, ReservedIova reserved)
    {
        var d = Dom(domainId);
        var occupied = d.Occupied;
        ulong start = reserved.Range.Start, last = reserved.Range.Last;
        ulong lookFrom = start == 0 ? 0 : start - 1;
        ulong lookTo = last == ulong.MaxValue ? last : last + 1;
        foreach (var piece in occupied.Overlapping(lookFrom, lookTo))
        {
            if (piece.Value is not null) continue; // an allocation merely touching it
            occupied = occupied.Remove(piece.Start);
            start = Math.Min(start, piece.Start);
            last = Math.Max(last, piece.Last);
        }
        PutDomain(Planted(ModelPlant.ReservedNotOccupied)
            ? d with { Reserved = d.Reserved.Add(reserved) }
            : d with { Reserved = d.Reserved.Add(reserved), Occupied = occupied.Add(start, last, null) });
        var touch = Footprint.Domain(domainId);
        touch.Reserved = true;
        touch.AllocationRanges.Add(reserved.Range);
    }

    // ----- page tables -----

    /// <summary>Installs leaves with the permissions their format can encode (one rule for every
    /// caller: see <see cref="DmaRules.LeafPermissions"/>). The range must be free of leaves.</summary>
    private void AddLeaves(int domainId, IEnumerable<PageRun> runs)
    {
        var d = Dom(domainId);
        var leaves = d.Leaves;
        var touch = Footprint.Domain(domainId);
        foreach (var run in runs)
        {
            var leaf = run with { Prot = DmaRules.LeafPermissions(d.Format.Format, run.Prot) };
            leaves = leaves.Add(leaf.Iova, leaf.Last, leaf);
            touch.LeafRanges.Add(leaf.Range);
        }
        PutDomain(d with { Leaves = leaves });
    }

    private void MapLeaves(int domainId, ulong iova, ulong phys, ulong bytes, Prot prot) =>
        AddLeaves(domainId, PageRun.For(Dom(domainId).Format.PageSizes, iova, phys, bytes, prot));

    /// <summary>Removes every leaf that overlaps <paramref name="range"/> (whole leaves: the
    /// pages of a run outside the range stay).</summary>
    private void ClearLeaves(int domainId, AddrRange range)
    {
        var d = Dom(domainId);
        var runs = d.Leaves.Overlapping(range);
        if (runs.Count == 0) return;
        var leaves = d.Leaves;
        foreach (var e in runs)
            leaves = CutPages(leaves, e.Value, range);
        PutDomain(d with { Leaves = leaves });
        Footprint.Domain(domainId).LeafRanges.Add(range);
    }

    /// <summary>Removes from the run the pages that overlap <paramref name="range"/>, keeping the
    /// pages before and after it as runs of their own.</summary>
    private static IntervalTree<PageRun> CutPages(IntervalTree<PageRun> tree, PageRun run, AddrRange range)
    {
        tree = tree.Remove(run.Iova);
        ulong first = range.Start <= run.Iova ? 0 : run.PageIndex(range.Start);
        ulong last = range.Last >= run.Last ? run.Count - 1 : run.PageIndex(range.Last);
        if (first > 0)
        {
            var before = run.Slice(0, first);
            tree = tree.Add(before.Iova, before.Last, before);
        }
        if (last + 1 < run.Count)
        {
            var after = run.Slice(last + 1, run.Count - last - 1);
            tree = tree.Add(after.Iova, after.Last, after);
        }
        return tree;
    }

    // ----- IOTLB -----

    /// <summary>Drops the cached walks of a domain that overlap <paramref name="range"/> (all when null).</summary>
    private void InvalidateIotlb(int domainId, AddrRange? range)
    {
        var d = Dom(domainId);
        if (d.Iotlb.IsEmpty) return;
        var touch = Footprint.Domain(domainId);
        if (range is not AddrRange r)
        {
            PutDomain(d with { Iotlb = d.Iotlb.Clear() });
            touch.WholeIotlb = true;
            return;
        }
        var iotlb = d.Iotlb;
        foreach (var (iommu, tree) in d.Iotlb)
        {
            var hits = tree.Overlapping(r);
            if (hits.Count == 0) continue;
            var cut = tree;
            foreach (var e in hits) cut = CutPages(cut, e.Value, r);
            iotlb = cut.IsEmpty ? iotlb.Remove(iommu) : iotlb.SetItem(iommu, cut);
            touch.IotlbIommus.Add(iommu);
        }
        if (ReferenceEquals(iotlb, d.Iotlb)) return;
        touch.IotlbRanges.Add(r);
        PutDomain(d with { Iotlb = iotlb });
    }

    /// <summary>Drops one cached leaf (a stale walk the implementation did not hold).</summary>
    private void DropCachedLeaf(int domainId, int iommu, Leaf leaf)
    {
        var d = Dom(domainId);
        var tree = d.IotlbOf(iommu);
        if (!tree.TryFindContaining(leaf.Iova, out var e)) return;
        var cut = CutPages(tree, e.Value, leaf.Range);
        PutDomain(d with { Iotlb = cut.IsEmpty ? d.Iotlb.Remove(iommu) : d.Iotlb.SetItem(iommu, cut) });
        var touch = Footprint.Domain(domainId);
        touch.IotlbIommus.Add(iommu);
        touch.IotlbRanges.Add(leaf.Range);
    }

    /// <summary>Drops everything one IOMMU caches for a domain (it detached from it).</summary>
    private void ForgetIommu(int domainId, int iommu)
    {
        var d = Dom(domainId);
        if (!d.Iotlb.ContainsKey(iommu)) return;
        PutDomain(d with { Iotlb = d.Iotlb.Remove(iommu) });
        var touch = Footprint.Domain(domainId);
        touch.WholeIotlb = true;
        touch.IotlbIommus.Add(iommu);
    }

    /// <summary>Caches walked leaves in an IOMMU's IOTLB (pages already cached there are skipped
    /// by the walker, which never walks a cached page).</summary>
    private void CacheWalks(int domainId, int iommu, List<PageRun> walked)
    {
        if (walked.Count == 0) return;
        var d = Dom(domainId);
        var tree = d.IotlbOf(iommu);
        var touch = Footprint.Domain(domainId);
        foreach (var run in walked)
        {
            tree = tree.Add(run.Iova, run.Last, run);
            touch.IotlbRanges.Add(run.Range);
        }
        touch.IotlbIommus.Add(iommu);
        PutDomain(d with { Iotlb = d.Iotlb.SetItem(iommu, tree) });
    }

    // ----- flush queue and MSI pages -----

    private void SetFlushQueue(int domainId, ImmutableQueue<FlushQueueEntry> queue, int count)
    {
        PutDomain(Dom(domainId) with { FlushQueue = queue, FlushQueueCount = count });
        Footprint.Domain(domainId).FlushQueue = true;
    }

    private void SetTimer(int domainId, ulong? deadline)
    {
        UpdateDomainSettings(domainId, d => d with { TimerDeadline = deadline });
        _state = _state with
        {
            ArmedTimers = deadline is null ? _state.ArmedTimers.Remove(domainId) : _state.ArmedTimers.Add(domainId),
        };
    }

    private void AddMsiPage(int domainId, MsiPage page)
    {
        var d = Dom(domainId);
        PutDomain(d with { MsiPages = d.MsiPages.Add(page) });
        Footprint.Domain(domainId).MsiPages = true;
    }

    // ----- live mappings, bounce slots, unmapped handles -----

    private DmaMapping AddMapping(DmaMapping mapping)
    {
        ulong id = (ulong)(uint)mapping.Id;
        var byDevice = _state.MappingsByDevice.TryGetValue(mapping.Device, out var ids) ? ids : IntervalTree<int>.Empty;
        var key = (mapping.Device, mapping.Dma.Value);
        var sameHandle = _state.MappingsByHandle.TryGetValue(key, out var list) ? list : [];
        _state = _state with
        {
            Mappings = _state.Mappings.Add(id, id, mapping),
            MappingsByDevice = _state.MappingsByDevice.SetItem(mapping.Device, byDevice.Add(id, id, mapping.Id)),
            MappingsByHandle = _state.MappingsByHandle.SetItem(key, sameHandle.Add(mapping.Id)),
            NextMappingId = Math.Max(_state.NextMappingId, mapping.Id + 1),
        };
        foreach (var (domainId, allocation) in AllocationsOf(mapping))
        {
            var d = Dom(domainId);
            PutDomain(d with { Users = d.Users.Add(allocation, mapping.Id) });
        }
        Footprint.MappingsAdded.Add(mapping.Id);
        return mapping;
    }

    /// <summary>The (domain, allocation) pairs a mapping's translated parts live in, each once.</summary>
    private static List<(int Domain, AddrRange Allocation)> AllocationsOf(DmaMapping mapping)
    {
        var result = new List<(int, AddrRange)>();
        foreach (var p in mapping.Parts)
            if (p.Domain is int d && p.Allocation is AddrRange a && !result.Contains((d, a)))
                result.Add((d, a));
        return result;
    }

    private void RemoveMapping(DmaMapping mapping)
    {
        ulong id = (ulong)(uint)mapping.Id;
        var byDevice = _state.MappingsByDevice[mapping.Device].Remove(id);
        var key = (mapping.Device, mapping.Dma.Value);
        var sameHandle = _state.MappingsByHandle[key].Remove(mapping.Id);
        _state = _state with
        {
            Mappings = _state.Mappings.Remove(id),
            MappingsByDevice = byDevice.IsEmpty ? _state.MappingsByDevice.Remove(mapping.Device) : _state.MappingsByDevice.SetItem(mapping.Device, byDevice),
            MappingsByHandle = sameHandle.IsEmpty ? _state.MappingsByHandle.Remove(key) : _state.MappingsByHandle.SetItem(key, sameHandle),
        };
        foreach (var (domainId, allocation) in AllocationsOf(mapping))
        {
            var d = Dom(domainId);
            PutDomain(d with { Users = d.Users.Remove(allocation.Start) });
        }
        if (!Footprint.MappingsAdded.Remove(mapping.Id)) Footprint.MappingsRemoved.Add(mapping.Id);
    }

    private BounceSlot AddBounce(BounceSlot slot)
    {
        _state = _state with
        {
            Bounces = _state.Bounces.Add(slot.Id, slot),
            BounceSpans = _state.BounceSpans.Add(slot.Slot, slot.Id),
            NextBounceId = Math.Max(_state.NextBounceId, slot.Id + 1),
        };
        Footprint.BouncesAdded.Add(slot.Id);
        return slot;
    }

    private void RemoveBounce(int id)
    {
        if (!_state.Bounces.TryGetValue(id, out var slot)) return;
        _state = _state with { Bounces = _state.Bounces.Remove(id), BounceSpans = _state.BounceSpans.Remove(slot.Slot.Start) };
        if (!Footprint.BouncesAdded.Remove(id)) Footprint.BouncesRemoved.Add(id);
    }

    private void RememberUnmapped(int device, ulong handle)
    {
        var set = _state.Unmapped.TryGetValue(device, out var s) ? s : [];
        _state = _state with { Unmapped = _state.Unmapped.SetItem(device, set.Add(handle)) };
    }

    private void ForgetUnmapped(int device, ulong handle)
    {
        if (_state.Unmapped.TryGetValue(device, out var set) && set.Contains(handle))
            _state = _state with { Unmapped = _state.Unmapped.SetItem(device, set.Remove(handle)) };
    }

    private int NewMappingId() => _state.NextMappingId;

    private int NewBounceId() => _state.NextBounceId;
}
