using DmaVerify.Contracts;
using DmaVerify.PlantedBugs;
using DmaVerify.Harness;
using DmaVerify.Model;
using DmaVerify.Properties.Tests.Support;
using Xunit.Abstractions;
using DmaVerify.Cli.Composition;

namespace DmaVerify.Properties.Tests.Concurrency;

/// <summary>
/// The linearizability checker: exact on hand-made histories (real-time order matters), quiet
/// on a serialized implementation, and it catches a planted check-then-act race that no
/// sequential property can see. The catalogue's linearizable/* runs are in CatalogueRunTests.
/// </summary>
public class LinearizabilityTests(ITestOutputHelper output)
{
    private static readonly PlatformConfig Vtd = Presets.Get(Presets.X86Vtd);
    private static readonly Map MapA = new(0, new PhysAddr(0x200_0000), 0x1000, DmaDirection.ToDevice);
    private static readonly Map MapB = new(0, new PhysAddr(0x300_0000), 0x1000, DmaDirection.ToDevice);
    private static readonly Unmap UnmapFirst = new(0, new LiveRef(0), 0x1000, DmaDirection.ToDevice);

    private static ConcurrentEvent At(int thread, Op op, Outcome outcome, long invoked, long returned) => new(thread, op, outcome, invoked, returned);

    /// <summary>Outcomes a real sequential run gives, to build histories from.</summary>
    private static List<Outcome> Sequential(params Op[] ops)
    {
        var system = Implementations.Registry.Get(Implementations.Optimized).Create(Vtd);
        return ops.Select(system.Apply).ToList();
    }

    private static readonly DeviceAccess ReadFirst = new(0, new LiveRef(0), 4, false);

    /// <summary>Map A; then an unmap of it and a read through it, with the answers a sequential
    /// run gave when the read came first: the read reached A's buffer.</summary>
    private static ConcurrentHistory UnmapAndRead(long unmapInvoked, long unmapReturned, long readInvoked, long readReturned)
    {
        var outcomes = Sequential(MapA, ReadFirst, UnmapFirst);
        Assert.IsType<Accessed>(outcomes[1]);
        return new ConcurrentHistory(Presets.X86Vtd,
        [
            At(-1, MapA, outcomes[0], 0, 1),
            At(0, UnmapFirst, outcomes[2], unmapInvoked, unmapReturned),
            At(1, ReadFirst, outcomes[1], readInvoked, readReturned),
        ]);
    }

    [Fact]
    public void OverlappingCallsMayBeOrderedEitherWay() =>
        Assert.NotNull(new LinearizabilityChecker(Vtd).FindLinearization(UnmapAndRead(10, 20, 15, 25)));

    [Fact]
    public void RealTimeOrderIsRespected()
    {
        // The unmap returned before the read was invoked: the read must not reach the buffer.
        var checker = new LinearizabilityChecker(Vtd);
        var history = UnmapAndRead(10, 20, 30, 40);
        Assert.Null(checker.FindLinearization(history));
        Assert.Equal("LINEARIZABILITY", checker.Check(history)?.Invariant);
    }

    [Fact]
    public void ASecondUnmapOfTheFirstMappingCannotClaimADoubleUnmap()
    {
        // The answers of a real run for the setup and the first unmap; the second unmap of
        // "the first mapping" then claims a double unmap, which no order allows (it would
        // unmap B).
        var real = Sequential(MapA, MapB, UnmapFirst);
        Assert.True(real[2].IsSuccess);
        var doubleUnmap = new Failed(DmaErrorKind.DoubleUnmap, "already unmapped");
        var history = new ConcurrentHistory(Presets.X86Vtd,
        [
            At(-1, MapA, real[0], 0, 1), At(-1, MapB, real[1], 2, 3),
            At(0, UnmapFirst, real[2], 10, 20), At(1, UnmapFirst, doubleUnmap, 11, 21),
        ]);
        var checker = new LinearizabilityChecker(Vtd);
        Assert.NotNull(checker.FindLinearization(history with { Events = history.Events.Take(3).ToList() }));
        var finding = checker.Check(history);
        Assert.NotNull(finding);
        Assert.Equal("LINEARIZABILITY", finding.Invariant);
    }

    [Fact]
    public void ASerializedImplementationIsAlwaysLinearizable()
    {
        var run = PropertyCatalogue.Linearizability(Implementations.Registry.Get(Implementations.Optimized), Presets.X86Vtd);
        var serialized = run.With("optimized+serialized", Serialized.Over(Implementations.Registry.Get(Implementations.Optimized).Create));
        TestLog.MustPass(serialized, output, TestLog.Options(output) with { IgnoreEnvironment = true });
    }

    [Fact]
    public void APlantedCheckThenActRaceIsFoundAndShrunk()
    {
        var run = PropertyCatalogue.Linearizability(Implementations.Registry.Get(Implementations.Optimized), Presets.X86Vtd);
        var racy = run.With("optimized+check-then-act-unmap", CheckThenActUnmap.Over(Implementations.Registry.Get(Implementations.Optimized).Create)) with
        {
            Name = "linearizable/optimized+check-then-act-unmap/x86-vtd",
        };
        var result = racy.Run(TestLog.Options(output) with { IgnoreEnvironment = true });
        Assert.False(result.Passed, $"the race was not found in {result.TestsRun} cases");
        Assert.Equal("LINEARIZABILITY", result.Finding!.Invariant);
        Assert.True(result.ShrunkOps <= 6, result.Report());
    }
}
