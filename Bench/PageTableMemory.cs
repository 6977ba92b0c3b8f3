using DmaVerify.Contracts;
using DmaVerify.Model;
using DmaVerify.Optimized.Dma;

namespace DmaVerify.Bench;

/// <summary>
/// Page-table memory across a fill and a full teardown (no leak): table pages of the device's
/// domain at the start, with N 4 KiB mappings live, and after unmapping all of them and a flush
/// (the DMA-FQ domain parks emptied tables until the flush). A count, not a timing, so it is
/// printed once rather than benchmarked; Optimized.Tests/Dma/PageTableMemoryTests.cs asserts it.
/// </summary>
public static class PageTableMemory
{
    public readonly record struct Report(int Mappings, long StartPages, long PeakPages, long EndPages, long PendingAtEnd);

    public static Report Measure(int mappings, OptimizedSystemOptions options)
    {
        var platform = Presets.Get(Presets.X86Vtd);
        var system = new OptimizedSystem(platform, options);
        int domain = system.ExportState().Device(Workloads.Nic)!.Domain!.Value;
        long Pages() => system.ExportState().Domains.Single(d => d.Id == domain).TablePages ?? throw new InvalidOperationException("no table-page count");
        long Pending() => system.ExportState().Domains.Single(d => d.Id == domain).PendingFreeTablePages ?? 0;
        long start = Pages();
        var dmas = new ulong[mappings];
        // Spread the buffers so the leaves land in many tables: every 7th page of RAM above 4 GiB.
        for (int i = 0; i < mappings; i++)
            dmas[i] = ((Mapped)system.Apply(new Map(Workloads.Nic, new PhysAddr(Workloads.PagePhys(i * 7)), 0x1000, DmaDirection.ToDevice))).Dma.Value;
        long peak = Pages();
        // Newest first: OptimizedSystem keeps each device's mappings in creation order (LiveRef
        // indexes that list), so oldest-first unmaps cost O(n) each (see docs/benchmarks.md).
        for (int i = mappings - 1; i >= 0; i--)
            Workloads.Expect(system.Apply(new Unmap(Workloads.Nic, new RawRef(dmas[i]), 0x1000, DmaDirection.ToDevice)), "unmap");
        Workloads.Expect(system.Apply(new Flush(domain)), "flush");
        return new Report(mappings, start, peak, Pages(), Pending());
    }

    public static void Print(TextWriter output, int mappings)
    {
        output.WriteLine("## Page-table memory (x86-vtd, DMA-FQ domain, 4 KiB maps)");
        output.WriteLine();
        output.WriteLine("| system | mappings | table pages at start | with all mapped | after unmap all + flush | leaked |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (name, options) in new[] { ("Optimized", OptimizedSystemOptions.Optimized), ("LinuxStyle", OptimizedSystemOptions.LinuxStyle) })
        {
            var r = Measure(mappings, options);
            output.WriteLine($"| {name} | {r.Mappings:N0} | {r.StartPages} | {r.PeakPages} | {r.EndPages} | {r.EndPages - r.StartPages} |");
        }
        output.WriteLine();
    }
}
