using DmaVerify.Model;
using DmaVerify.Optimized.Iova;
using DmaVerify.Optimized.PageTables;

namespace DmaVerify.Optimized.Dma;

/// <summary>IOVA space: the augmented tree for dma-iommu domains (32-bit-first for PCI), a
/// lowest-fit page-granular search for GART/TCE windows; allocations and leaves with undo.</summary>
public sealed partial class OptimizedSystem
{
    private const ulong FourGiBLast = 0xFFFF_FFFF;

    private static IEnumerable<IovaAllocation> AllocationsOverlapping(Dom domain, AddrRange range)
    {
        foreach (var a in domain.Allocations.Values)
        {
            if (a.Range.Start > range.Last) yield break;
            if (a.Range.Overlaps(range)) yield return a;
        }
    }

    private void AddAllocation(Dom domain, IovaAllocation allocation)
    {
        domain.Allocations[allocation.Range.Start] = allocation;
        OnUndo(() => domain.Allocations.Remove(allocation.Range.Start));
    }

    private void ReplaceAllocation(Dom domain, IovaAllocation allocation)
    {
        var old = domain.Allocations[allocation.Range.Start];
        domain.Allocations[allocation.Range.Start] = allocation;
        OnUndo(() => domain.Allocations[allocation.Range.Start] = old);
    }

    /// <summary>Gives an allocation back to the allocator, into the magazines when they are on
    /// (not undoable: only unmap and flush paths, which never fail after they start, call it).</summary>
    private void ReleaseAllocation(Dom domain, AddrRange range)
    {
        domain.Allocations.Remove(range.Start);
        if (domain.Iova is IIovaAllocator iova)
        {
            int shift = domain.Format.GranuleShift;
            if (Options.Magazines) iova.FreeFast(range.Start >> shift, (ulong)range.Size >> shift);
            else iova.Free(range.Start >> shift);
        }
    }

    /// <summary>An IOVA range of <paramref name="bytes"/> (granule multiple) at or below
    /// <paramref name="limit"/>; the recorded range is the size-aligned rounded one.</summary>
    private AddrRange? AllocIova(Dev device, Dom domain, ulong bytes, ulong limit, ulong boundary)
    {
        int shift = domain.Format.GranuleShift;
        ulong granule = domain.Granule;
        if (domain.Iova is IIovaAllocator allocator)
        {
            ulong granules = bytes >> shift;
            ulong pow2 = IovaSpace.RoundUpPow2(granules);
            ulong size = granules < IovaSpace.RoundUpBelowGranules ? pow2 : granules;
            bool flag = device.Pci32First;
            ulong pfn = AllocDmaIova(allocator, size, limit >> shift, shift, ref flag);
            if (flag != device.Pci32First)
            {
                device.Pci32First = flag;
                OnUndo(() => device.Pci32First = true);
                _kept.Add(() => device.Pci32First = false);
            }
            if (pfn == 0) return null;
            OnUndo(() => allocator.Free(pfn));
            return AddrRange.FromLength(pfn << shift, size << shift);
        }
        return LowestFit(domain, bytes, limit, boundary);
    }

    /// <summary>dma-iommu's iommu_dma_alloc_iova (<see cref="DmaIovaPolicy"/>) with the
    /// 32-bit pass made complete when <see cref="OptimizedSystemOptions.Complete32BitFirst"/>,
    /// and LinuxStyle's max32 refusals logged.</summary>
    private ulong AllocDmaIova(IIovaAllocator allocator, ulong pages, ulong limitPfn, int shift, ref bool pci32First)
    {
        if (DmaIovaPolicy.Tries32BitFirst(pci32First, limitPfn, shift))
        {
            ulong low = allocator.AllocFast(pages, DmaIovaPolicy.Pfn32Limit(shift), flushCachesOnFailure: Options.Complete32BitFirst);
            if (low != 0) return low;
            if (RefusedByMax32(allocator)) Max32Shortcut.RefusedPci32Passes++;
            pci32First = false;
        }
        ulong pfn = allocator.AllocFast(pages, limitPfn, flushCachesOnFailure: true);
        if (pfn == 0 && RefusedByMax32(allocator))
        {
            Max32Shortcut.RefusedAllocations++;
            Max32Shortcut.LastOpRefused = true;
        }
        return pfn;
    }

    private static bool RefusedByMax32(IIovaAllocator allocator) =>
        allocator is LinuxStyleIovaAllocator linux && linux.LastOutcome == LinuxStyleIovaAllocator.Outcome.Max32FastFail;

    /// <summary>GART/TCE bitmap: the lowest granule-aligned fit that does not cross the segment boundary.</summary>
    private static AddrRange? LowestFit(Dom domain, ulong bytes, ulong limit, ulong boundary)
    {
        ulong granule = domain.Granule;
        limit = Math.Min(limit, domain.Aperture.Last);
        ulong cand = IovaSpace.AlignUp(Math.Max(domain.AllocStart, domain.Aperture.Start), granule, out bool overflow);
        if (overflow || bytes == 0) return null;
        var occupied = domain.Allocations.Values.Select(a => a.Range).Concat(domain.Reserved.Select(r => r.Range)).OrderBy(r => r.Start).ToList();
        int next = 0;
        while (true)
        {
            if (cand > limit || limit - cand < bytes - 1) return null;
            ulong last = cand + bytes - 1;
            if (boundary != ulong.MaxValue && (cand & ~boundary) != (last & ~boundary))
            {
                if ((cand | boundary) == ulong.MaxValue) return null;
                cand = IovaSpace.AlignUp((cand | boundary) + 1, granule, out overflow);
                if (overflow) return null;
                continue;
            }
            while (next < occupied.Count && occupied[next].Last < cand) next++;
            int clash = -1;
            for (int i = next; i < occupied.Count && occupied[i].Start <= last; i++)
                if (occupied[i].Overlaps(new AddrRange(cand, last))) { clash = i; break; }
            if (clash < 0) return new AddrRange(cand, last);
            if (occupied[clash].Last == ulong.MaxValue) return null;
            cand = IovaSpace.AlignUp(occupied[clash].Last + 1, granule, out overflow);
            if (overflow) return null;
        }
    }

    /// <summary>iommu_map through the domain's page table, undone on a later failure.</summary>
    private Failed? MapLeaves(Dom domain, ulong iova, ulong phys, ulong bytes, Prot prot)
    {
        // The shared per-format leaf rule (TCE and LPAE stage 1 add read, the GART is RW).
        prot = DmaRules.LeafPermissions(domain.Format.Format, prot);
        var result = domain.Table.Map(iova, phys, bytes, prot);
        if (!result.IsSuccess)
            return Fail(result.Error!.Value, $"page table refused {Hex.Format(iova)}->{Hex.Format(phys)}+{Hex.Format(bytes)}: {result}");
        OnUndo(() => domain.Table.Unmap(iova, bytes));
        return null;
    }
}
