using DmaVerify.Contracts;
using DmaVerify.Model;
using DmaVerify.Optimized.Dma;

namespace DmaVerify.Tests.Dma;

/// <summary>Page-table memory returns to its starting size after every mapping is unmapped
/// (issue #3's "no leak" workload; Bench prints the same count for 10^5 mappings).</summary>
public class PageTableMemoryTests
{
    private const int Nic = 0;

    public static TheoryData<string> Configurations() => new() { "optimized", "linuxstyle" };

    private static (long Start, long Peak, long End) FillAndEmpty(OptimizedSystem system, int mappings, bool flush)
    {
        int domain = system.ExportState().Device(Nic)!.Domain!.Value;
        long Pages() => system.ExportState().Domains.Single(d => d.Id == domain).TablePages!.Value;
        long start = Pages();
        var dmas = new List<ulong>();
        for (int i = 0; i < mappings; i++)
        {
            // 3,000 leaves: the IOVAs are packed top-down, so they fill a handful of last-level tables.
            var outcome = system.Apply(new Map(Nic, new PhysAddr(0x1_0000_0000UL + (ulong)i * 37 * 0x1000), 0x1000, DmaDirection.ToDevice));
            dmas.Add(Assert.IsType<Mapped>(outcome).Dma.Value);
        }
        var sg = system.Apply(new MapSg(Nic, Enumerable.Range(0, 64).Select(i => new SgEntry(new PhysAddr(0x2_0000_0000UL + (ulong)i * 0x3000), 0x1000)).ToValueList(), DmaDirection.Bidirectional));
        long peak = Pages();
        foreach (ulong dma in dmas) Assert.True(system.Apply(new Unmap(Nic, new RawRef(dma), 0x1000, DmaDirection.ToDevice)).IsSuccess);
        Assert.True(system.Apply(new UnmapSg(Nic, new RawRef(Assert.IsType<SgMapped>(sg).Segments[0].Dma.Value), 64, DmaDirection.Bidirectional)).IsSuccess);
        if (flush) Assert.True(system.Apply(new Flush(domain)).IsSuccess);
        return (start, peak, Pages());
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void UnmappingEverything_ReturnsTablePagesToTheStart(string configuration)
    {
        var options = configuration == "optimized" ? OptimizedSystemOptions.Optimized : OptimizedSystemOptions.LinuxStyle;
        var system = new OptimizedSystem(Presets.Get(Presets.X86Vtd), options);
        var (start, peak, end) = FillAndEmpty(system, 3000, flush: true);
        Assert.True(peak > start + 5, $"the fill should need table pages: {start} → {peak}");
        Assert.Equal(start, end);
        Assert.Empty(InvariantChecker.Check(system.ExportState()));
    }

    [Fact]
    public void WithoutTheFlush_TheDeferredTablesAreStillCounted()
    {
        // The check is not blind: on a DMA-FQ domain the emptied tables wait for the flush, and
        // until then they count (as they would if a lazy unmap leaked them).
        var system = new OptimizedSystem(Presets.Get(Presets.X86Vtd));
        var (start, _, end) = FillAndEmpty(system, 3000, flush: false);
        Assert.True(end > start, $"{start} → {end}");
    }
}
