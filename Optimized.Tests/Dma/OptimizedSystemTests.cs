using DmaVerify.Contracts;
using DmaVerify.Model;
using DmaVerify.Optimized.Dma;

namespace DmaVerify.Tests.Dma;

/// <summary>Implementation-specific behaviour the model does not see.</summary>
public class OptimizedSystemTests
{
    [Fact]
    public void LazyUnmapDefersTableFreeingUntilTheFlush()
    {
        var platform = Presets.Get(Presets.X86Vtd); // NIC in a DMA-FQ default domain
        var run = new SideBySide("x86-vtd lazy tables", platform);
        var ram = platform.Ram.First(r => r.Start >= 0x1_0000_0000);
        var mapped = (Mapped)run.Step(new Map(0, new PhysAddr(ram.Start), 0x1000, DmaDirection.ToDevice));
        int domain = run.Impl.ExportState().Device(0)!.Domain!.Value;
        int held = run.Impl.ExportState().Domain(domain)!.TablePages!.Value;
        run.Step(new Unmap(0, new RawRef(mapped.Dma.Value), 0x1000, DmaDirection.ToDevice));
        var afterUnmap = run.Impl.ExportState().Domain(domain)!;
        Assert.Equal(held, afterUnmap.TablePages);
        Assert.True(afterUnmap.PendingFreeTablePages > 0, "the emptied tables wait for the flush");
        Assert.Single(afterUnmap.FlushQueue);
        run.CheckInvariants();
        run.Step(new Tick(OptimizedSystem.FlushQueueTimeoutMs));
        var afterFlush = run.Impl.ExportState().Domain(domain)!;
        Assert.Equal(0, afterFlush.PendingFreeTablePages);
        Assert.Equal(held - afterUnmap.PendingFreeTablePages, afterFlush.TablePages); // direct-region tables stay
        Assert.Empty(afterFlush.FlushQueue);
        Assert.Empty(afterFlush.Allocations);
        run.CheckInvariants();
    }

    [Fact]
    public void BadInputNeverThrows()
    {
        var sys = new OptimizedSystem(Presets.Get(Presets.ArmSmmu));
        Assert.Equal(DmaErrorKind.UnknownDevice, ((Failed)sys.Apply(new Map(99, new PhysAddr(0), 1, DmaDirection.ToDevice))).Kind);
        Assert.Equal(DmaErrorKind.Overflow, ((Failed)sys.Apply(new Map(0, new PhysAddr(ulong.MaxValue), 2, DmaDirection.ToDevice))).Kind);
        Assert.Equal(DmaErrorKind.UnknownDomain, ((Failed)sys.Apply(new Flush(1234))).Kind);
        Assert.Equal(DmaErrorKind.InvalidArgument, ((Failed)sys.Apply(new MapSg(0, ValueList<SgEntry>.Empty, DmaDirection.ToDevice))).Kind);
    }
}
