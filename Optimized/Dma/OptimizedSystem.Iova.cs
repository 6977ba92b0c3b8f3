using DmaVerify.Contracts;
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
        _undo.Add(new Undo(UndoKind.RemoveAllocation, domain, allocation.Range.Start, 0));
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
        domain.Window?.Free(range.Start);
    }

    /// <summary>An IOVA range of <paramref name="bytes"/> (granule multiple) at or below
    /// <paramref name="limit"/>; the recorded range is the size-aligned rounded one.</summary>
    private AddrRange? AllocIova(Dev device, Dom domain, ulong bytes, ulong limit, ulong boundary)
    {
        int shift = domain.Format.GranuleShift;
        ulong granule = domain.Granule;
        if (domain.Iova is IIovaAllocator allocator)
        {
            // iommu_dma_alloc_iova rounds below 32 granules up to a power of two (an rcache class).
            ulong size = IovaFit.FastSize(bytes >> shift);
            bool flag = device.Pci32First;
            ulong pfn = AllocDmaIova(allocator, size, limit >> shift, shift, ref flag);
            if (flag != device.Pci32First)
            {
                device.Pci32First = flag;
                OnUndo(() => device.Pci32First = true);
                _kept.Add(() => device.Pci32First = false);
            }
            if (pfn == 0) return null;
            _undo.Add(new Undo(UndoKind.FreeIova, allocator, pfn, 0));
            return AddrRange.FromLength(pfn << shift, size << shift);
        }
        return WindowFit(domain, bytes, limit, boundary);
    }

    /// <summary>dma-iommu's iommu_dma_alloc_iova (<see cref="DmaIovaPolicy"/>) with the
    /// 32-bit pass made complete when <see cref="OptimizedSystemOptions.Complete32BitFirst"/>,
    /// and LinuxStyle's max32 refusals logged.</summary>
    private ulong AllocDmaIova(IIovaAllocator allocator, ulong pages, ulong limitPfn, int shift, ref bool pci32First)
    {
        if (DmaIovaPolicy.Tries32BitFirst(pci32First, limitPfn, shift) && !Planted(OptimizedPlant.Pci32FirstSkipped))
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

    /// <summary>GART/TCE window: a granule-aligned span below the limit that crosses no segment
    /// boundary (<see cref="SpanAllocator"/>, O(log n)); given back on undo.</summary>
    private AddrRange? WindowFit(Dom domain, ulong bytes, ulong limit, ulong boundary)
    {
        if (domain.Window is not SpanAllocator window || bytes == 0) return null;
        if (window.Alloc(bytes, domain.Granule, Math.Min(limit, domain.Aperture.Last), boundary) is not ulong start) return null;
        OnUndo(() => window.Free(start));
        return AddrRange.FromLength(start, bytes);
    }

    /// <summary>iommu_map through the domain's page table, undone on a later failure.</summary>
    private Failed? MapLeaves(Dom domain, ulong iova, ulong phys, ulong bytes, Prot prot)
    {
        // What the leaf grants is the format's business: its PTE encoder applies the
        // hardware's rule (a TCE always grants read, LPAE stage 1 has no write-only, the GART
        // has no permission bits), and the walker decodes it back.
        var result = domain.Table.Map(iova, phys, bytes, prot);
        if (!result.IsSuccess)
            return Fail(result.Error!.Value, $"page table refused {Hex.Format(iova)}->{Hex.Format(phys)}+{Hex.Format(bytes)}: {result}");
        _undo.Add(new Undo(UndoKind.UnmapLeaves, domain, iova, bytes));
        return null;
    }
}
