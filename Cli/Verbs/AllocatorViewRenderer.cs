using System.Numerics;
using DmaVerify.Contracts;
using DmaVerify.Pictures;
using DmaVerify.Native;
using DmaVerify.Optimized.Iova;

namespace DmaVerify.Cli.Verbs;

/// <summary>
/// `verify show --allocator`: each IOVA space the plugged allocator was asked for, in its own
/// words (dv_iova_ranges), beside the DMA layer's allocations and reservations for the domain it
/// serves. A line marked '!' is a range one side holds and the other does not: an allocation the
/// allocator forgot, or one it still holds after the DMA layer gave it back.
/// </summary>
internal static class AllocatorViewRenderer
{
    public static void Render(string name, IReadOnlyList<IIovaAllocator> allocators, SystemState dmaLayer, TextWriter output)
    {
        output.WriteLine();
        if (allocators.Count == 0)
        {
            output.WriteLine($"allocator {name}: no IOVA space was asked for (no dma-iommu domain)");
            return;
        }
        if (allocators[0] is not IAllocatorView { HasOwnView: true })
        {
            output.WriteLine($"allocator {name}: {allocators.Count} IOVA space(s); the library exports no dv_iova_ranges, so its own view cannot be shown");
            return;
        }
        output.WriteLine($"allocator {name}, its own view (dv_iova_ranges) of each IOVA space it made:");
        var unclaimed = dmaLayer.Domains.Where(d => d.IsDmaApi && d.Policy == IovaPolicy.SizeAligned).OrderBy(d => d.Id).ToList();
        for (int i = 0; i < allocators.Count; i++)
        {
            var allocator = allocators[i];
            int shift = BitOperations.LeadingZeroCount(allocator.MaxPfn);
            var domain = unclaimed.FirstOrDefault(d => d.AllocStart == allocator.StartPfn << shift && d.Format.GranuleShift == shift);
            if (domain is not null) unclaimed.Remove(domain);
            var ranges = ((IAllocatorView)allocator).OwnRanges();
            output.WriteLine($"  space {i + 1}: start_pfn 0x{allocator.StartPfn:x}, granule {Sizes.Human(1UL << shift)}, {ranges.Count} range(s)" +
                             (domain is null ? "; no live DMA domain uses it" : $"; serves domain {domain.Id}"));
            foreach (var line in Lines(ranges, domain, shift)) output.WriteLine("    " + line);
        }
    }

    private static IEnumerable<string> Lines(IReadOnlyList<AllocatorRange> ranges, DomainState? domain, int shift)
    {
        var allocations = domain?.Allocations.Select(a => a.Range).ToHashSet() ?? [];
        foreach (var r in ranges)
        {
            var bytes = new AddrRange(r.PfnLo << shift, (r.PfnHi << shift) | ((1UL << shift) - 1));
            string what = r.Kind.ToString().ToLowerInvariant();
            string text = $"[0x{r.PfnLo:x}..0x{r.PfnHi:x}] {what,-9} {Hex.Format(bytes.Start)}..{Hex.Format(bytes.Last)}";
            if (domain is null) { yield return "  " + text; continue; }
            yield return r.Kind switch
            {
                AllocatorRangeKind.Allocated when allocations.Remove(bytes) => "  " + text,
                AllocatorRangeKind.Allocated => "! " + text + "  the DMA layer has no allocation here (leaked, or freed by the DMA layer and kept)",
                AllocatorRangeKind.Reserved when domain.Reserved.Any(x => x.Range.Overlaps(bytes)) => "  " + text,
                AllocatorRangeKind.Reserved => "! " + text + "  the DMA layer reserved nothing here",
                _ => "  " + text + "  (free to the DMA layer until a flush)",
            };
        }
        foreach (var lost in allocations.OrderBy(a => a.Start))
            yield return $"! {Hex.Format(lost.Start)}..{Hex.Format(lost.Last)} is a DMA-layer allocation the allocator does not hold";
    }
}
