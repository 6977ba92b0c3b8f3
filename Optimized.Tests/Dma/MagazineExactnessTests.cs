using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;
using DmaVerify.Optimized.Dma;

namespace DmaVerify.Tests.Dma;

/// <summary>
/// Why "optimized" makes its 32-bit-first pass complete (flush the magazines before leaving
/// the mode): with magazines on and Linux's pass (no flush), a PCI device falls back above
/// 4 GiB while a 32-bit range sits free in another size class's magazine, and the strict model
/// (StrictPci32First = true) rejects that as INV-11. With the complete pass the same ops agree.
/// </summary>
public class MagazineExactnessTests
{
    private const int Nic = 0; // x86-vtd: 64-bit PCI device, 32-bit-first
    private const ulong FourGiB = 0x1_0000_0000;

    private sealed class Sut(OptimizedSystem system) : ISystemUnderTest
    {
        public string Name => "optimized-variant";
        public Outcome Apply(Op op) => system.Apply(op);
        public SystemState ExportState() => system.ExportState();
        public void FailNthAllocation(int n) => system.FailNthTablePage(n);
        public long AllocationAttempts => system.TablePageAttempts;
        public SystemSnapshot Snapshot() => system.Snapshot();
        public void Restore(SystemSnapshot snapshot) => system.Restore(snapshot);
    }

    private static Map MapOf(ulong bytes) => new(Nic, new PhysAddr(FourGiB), bytes, DmaDirection.ToDevice);

    /// <summary>Maps an 8 KiB buffer (the top of the 32-bit space), fills the rest of the space
    /// below 4 GiB with power-of-two maps, unmaps the 8 KiB one (into the 2-page magazine), then
    /// maps 4 KiB. Returns the finding of the last step, if any.</summary>
    private static Finding? Run(OptimizedSystemOptions options)
    {
        var session = new RefinementSession(Presets.Get(Presets.X86Vtd), p => new Sut(new OptimizedSystem(p, options)),
            new RefinementOptions { InvariantEvery = 0 });
        Assert.Null(session.Step(new SetDomainType(Nic, DomainType.Dma)));
        var first = Assert.IsType<Mapped>(StepOk(session, MapOf(0x2000)));
        Assert.True(first.Dma.Value < FourGiB);
        for (ulong size = 1UL << 30; size >= 0x1000; size >>= 1)
        {
            while (true)
            {
                // Ask the model where this size would go now (its state mirrors the session's).
                var planned = Replay(session).DryRun(MapOf(size));
                if (planned is not Mapped m || m.Dma.Value + size - 1 >= FourGiB) break;
                Assert.True(StepOk(session, MapOf(size)) is Mapped low && low.Dma.Value < FourGiB);
            }
        }
        Assert.Null(session.Step(new Unmap(Nic, new RawRef(first.Dma.Value), 0x2000, DmaDirection.ToDevice)));
        return session.Step(MapOf(0x1000));
    }

    /// <summary>A model in the session's state (the session's own model is not exposed).</summary>
    private static ModelSystem Replay(RefinementSession session)
    {
        var model = new ModelSystem(session.Platform);
        foreach (var step in session.Steps) model.Check(step.Op, step.Expected!);
        return model;
    }

    private static Outcome StepOk(RefinementSession session, Op op)
    {
        Assert.Null(session.Step(op));
        return session.Steps[^1].Expected!;
    }

    [Fact]
    public void LinuxPassWithMagazines_IsRejectedByTheStrictModel()
    {
        var finding = Run(OptimizedSystemOptions.Optimized with { Complete32BitFirst = false });
        Assert.NotNull(finding);
        Assert.Equal("INV-11", finding.Invariant);
        Assert.Contains("32-bit-first", finding.Message);
    }

    [Fact]
    public void CompletePassWithMagazines_AgreesWithTheStrictModel()
    {
        Assert.Null(Run(OptimizedSystemOptions.Optimized));
    }
}
