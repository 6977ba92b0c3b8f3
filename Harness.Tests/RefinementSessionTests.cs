using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;
using DmaVerify.Cli.Composition;

namespace DmaVerify.Tests.HarnessTests;

public class RefinementSessionTests
{
    private static readonly Op[] MapThenUnmap =
    [
        new Map(0, new PhysAddr(0x1000_0000), 0x2000, DmaDirection.ToDevice),
        new Unmap(0, new LiveRef(0), 0x2000, DmaDirection.ToDevice),
    ];

    [Fact]
    public void OptimizedAgreesWithTheModelOnASimpleRun()
    {
        var report = RefinementSession.Run(Presets.Get(Presets.X86Vtd), MapThenUnmap, Implementations.Registry.Get(Implementations.Optimized).Create);
        Assert.True(report.Passed, report.Finding?.ToString());
        Assert.Equal(2, report.Steps.Count);
        Assert.All(report.Steps, s => Assert.True(s.Expected!.IsSuccess));
    }

    [Fact]
    public void AnOutcomeTheModelDoesNotAllowIsADivergenceAtItsStep()
    {
        // Planted: every map answers with an address one page off.
        var report = RefinementSession.Run(Presets.Get(Presets.X86Vtd), MapThenUnmap,
            p => new Decorated(Implementations.Registry.Get(Implementations.Optimized).Create(p), o => o is Mapped m ? m with { Dma = new DmaAddr(m.Dma.Value + 0x1000) } : o));
        Assert.False(report.Passed);
        Assert.Equal(FindingKind.Divergence, report.Finding!.Kind);
        Assert.Equal(0, report.Finding.Step);
        Assert.Single(report.Steps);
    }

    [Fact]
    public void AThrowingImplementationIsACrashFindingNotAnException()
    {
        var report = RefinementSession.Run(Presets.Get(Presets.X86Vtd), MapThenUnmap,
            p => new Decorated(Implementations.Registry.Get(Implementations.Optimized).Create(p), _ => throw new InvalidOperationException("boom")));
        Assert.Equal(FindingKind.ImplementationCrash, report.Finding!.Kind);
        Assert.Contains("boom", report.Finding.Message);
    }

    [Fact]
    public void AfterAFindingFurtherStepsAreRefused()
    {
        var session = new RefinementSession(Presets.Get(Presets.X86Vtd),
            p => new Decorated(Implementations.Registry.Get(Implementations.Optimized).Create(p), _ => new Failed(DmaErrorKind.InvalidArgument, "internal error: planted")));
        var first = session.Step(MapThenUnmap[0]);
        Assert.NotNull(first);
        Assert.Same(first, session.Step(MapThenUnmap[1]));
        Assert.Single(session.Steps);
    }

    [Fact]
    public void UnknownImplementationNamesTheKnownOnes()
    {
        Assert.False(Implementations.Registry.TryGet("nope", out _, out var error));
        Assert.Contains("optimized", error);
    }

    private sealed class Decorated(ISystemUnderTest inner, Func<Outcome, Outcome> change) : ISystemUnderTest
    {
        public string Name => "decorated";
        public Outcome Apply(Op op) => change(inner.Apply(op));
        public SystemState ExportState() => inner.ExportState();
        public void FailNthAllocation(int n) => inner.FailNthAllocation(n);
        public long AllocationAttempts => inner.AllocationAttempts;
        public SystemSnapshot Snapshot() => inner.Snapshot();
        public void Restore(SystemSnapshot snapshot) => inner.Restore(snapshot);
    }
}
