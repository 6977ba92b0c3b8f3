using DmaVerify.Cli.Composition;
using DmaVerify.Contracts;
using DmaVerify.Explore;
using DmaVerify.Harness;
using DmaVerify.PlantedBugs;

namespace DmaVerify.Tests.Explore;

/// <summary>
/// The systematic interleaving search: exactly the schedules of the call orders on a system
/// that serialises every call, the planted check-then-act race found in its window, and a
/// thread that blocks outside an interleaving point reported as the tool being stuck, never as
/// a pass or a finding.
/// </summary>
public class InterleavingSearchTests
{
    private static readonly PlatformConfig Vtd = Presets.Get(Presets.X86Vtd);

    private static InterleavingResult Search(Implementation implementation, int depth = 2, int threads = 2, PlatformConfig? platform = null) =>
        new InterleavingSearch(platform ?? Vtd, implementation, new InterleavingOptions { Threads = threads, Depth = depth, StepTimeout = TimeSpan.FromSeconds(5) }).Run();

    [Fact]
    public void ASerialisedSystemHasExactlyTheSchedulesOfItsCallOrders()
    {
        // Three threads of one call each (3 ops per thread): 27 combinations, 3! orders each, so
        // decisions among three and then two runnable threads.
        var result = Search(Implementations.Registry.Get(Implementations.Optimized), depth: 1, threads: 3);
        Assert.Null(result.ToolError);
        Assert.Null(result.Finding);
        Assert.True(result.Complete);
        Assert.Equal(27, result.OpLists);
        Assert.Equal(27 * 6, result.Schedules);
    }

    [Fact]
    public void TheSharedTableOfSocVcmAndTheLinuxPeerAreLinearizable()
    {
        var result = Search(Implementations.Registry.Get(Implementations.LinuxStyle), depth: 1, platform: Presets.Get(Presets.SocVcm));
        Assert.True(result.Complete, result.Finding?.Finding.ToString() ?? result.ToolError);
        Assert.Equal(9 * 2, result.Schedules);
    }

    [Fact]
    public void TheCheckThenActRaceIsFoundInItsWindow()
    {
        var planted = PlantedCatalog.Find("check-then-act-unmap")!.Implementation;
        var result = Search(planted);
        Assert.Null(result.ToolError);
        var finding = Assert.IsType<InterleavingFinding>(result.Finding);
        Assert.Equal("LINEARIZABILITY", finding.Finding.Invariant);
        Assert.False(result.Complete);
        // Found among the first two-call lists: a thread unmaps while the other is in its window.
        Assert.Contains(finding.Threads, ops => ops.Any(op => op is Unmap));
        Assert.Contains("thread 1", finding.History);
    }

    /// <summary>Holds a lock across an interleaving point: the other thread blocks on the lock
    /// where the scheduler cannot see it.</summary>
    private sealed class YieldsInsideALock(ISystemUnderTest inner) : Decorator(inner, "yields-inside-a-lock")
    {
        private readonly Lock _gate = new();
        public override Outcome Apply(Op op)
        {
            lock (_gate)
            {
                InterleavingPoint.Here();
                return Inner.Apply(op);
            }
        }
    }

    [Fact]
    public void AThreadBlockedOutsideAPointIsAToolErrorNotAVerdict()
    {
        var optimized = Implementations.Registry.Get(Implementations.Optimized);
        var blocking = new Implementation("blocking", p => new YieldsInsideALock(optimized.Create(p)), optimized.ModelOptions);
        var result = new InterleavingSearch(Vtd, blocking, new InterleavingOptions { Depth = 1, StepTimeout = TimeSpan.FromMilliseconds(300) }).Run();
        Assert.Null(result.Finding);
        Assert.False(result.Complete);
        Assert.Contains("without reaching an interleaving point", result.ToolError);
    }

    /// <summary>Yields inside every other call it makes, counting across runs: the same
    /// schedule prefix meets other choices the next time.</summary>
    private sealed class YieldsEveryOtherCall(ISystemUnderTest inner) : Decorator(inner, "yields-every-other-call")
    {
        private int _calls;
        public override Outcome Apply(Op op)
        {
            if (Interlocked.Increment(ref _calls) % 2 == 0) InterleavingPoint.Here();
            return Inner.Apply(op);
        }
    }

    [Fact]
    public void AnImplementationWhosePointsChangeBetweenRunsIsAToolErrorNotAVerdict()
    {
        var optimized = Implementations.Registry.Get(Implementations.Optimized);
        var flaky = new Implementation("flaky", p => new YieldsEveryOtherCall(optimized.Create(p)), optimized.ModelOptions);
        var result = Search(flaky, depth: 2);
        Assert.Null(result.Finding);
        Assert.False(result.Complete);
        Assert.Contains("did not come to the choices an earlier run of the same prefix had", result.ToolError);
    }
}
