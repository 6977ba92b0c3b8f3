using DmaVerify.Cli.Composition;
using DmaVerify.Conformance;
using DmaVerify.Native;
using DmaVerify.Native.Loading;
using DmaVerify.Optimized.Iova;
using DmaVerify.Tests.Native;
using Xunit.Abstractions;

namespace DmaVerify.Tests.Conformance;

/// <summary>The allocator conformance suite on the example C allocator, its planted slips, and
/// planted .NET allocators: each slip caught, shrunk to a few calls, the call named.</summary>
public class ConformanceSuiteTests(ITestOutputHelper output)
{
    private static readonly ConformanceOptions Default = new() { Seed = 1 };

    private ConformanceResult Run(AllocatorSubject subject, ConformanceOptions? options = null)
    {
        var result = AllocatorConformance.Run(subject, options ?? Default);
        output.WriteLine(result.ToString());
        if (result.Shrunk is { } shrunk)
            foreach (var step in shrunk.Executed) output.WriteLine("  " + step);
        return result;
    }

    private static AllocatorSubject C(PluggedAllocator plugged, bool withView = true) =>
        AllocatorSubject.Of(plugged) with { ReportsRanges = withView && plugged.Capabilities.ReportsRanges };

    [CFact]
    public void TheExampleWrittenFromTheHeaderConforms()
    {
        using var plugged = PluggedAllocatorTests.Load(CAllocators.Example());
        var result = Run(C(plugged));
        Assert.True(result.Passed, result.ToString());
        Assert.Equal(Default.Cases, result.Cases);
        Assert.True(result.Refusals > 100, "the cases should exhaust their space often");
    }

    [CTheory]
    [InlineData("limit", ConformanceRule.WithinLimits, "dv_iova_alloc")]
    [InlineData("reserve", ConformanceRule.ReserveRespected, "dv_iova_reserve")]
    [InlineData("align", ConformanceRule.SizeAlignment, "dv_iova_alloc_fast")]
    [InlineData("free", ConformanceRule.FreeFrees, "dv_iova_free")]
    public void EachPlantedSlipIsCaughtShrunkAndNamed(string variant, ConformanceRule rule, string call)
    {
        using var plugged = PluggedAllocatorTests.Load(CAllocators.Example(variant));
        var result = Run(C(plugged));
        Assert.Equal(rule, result.Finding?.Rule);
        Assert.InRange(result.Shrunk!.Executed.Count, 1, 8);
        Assert.StartsWith(call, result.Finding!.Call);
        // The shrunk case replays to the same finding, from its text form.
        Assert.True(AllocatorCase.TryParse(result.CaseText!, "finding.iova", out var parsed, out var errors), string.Join("\n", errors));
        Assert.Equal(result.Finding, AllocatorConformance.Replay(C(plugged), parsed).Finding);
    }

    [CTheory]
    [InlineData("limit")]
    [InlineData("reserve")]
    [InlineData("align")]
    [InlineData("free")]
    public void WithoutDvIovaRangesEachSlipIsStillCaughtByWhatTheCallsReturn(string variant)
    {
        using var plugged = PluggedAllocatorTests.Load(CAllocators.Example(variant), inProcess: true);
        var result = Run(C(plugged, withView: false));
        Assert.NotNull(result.Finding);
        Assert.NotEqual(ConformanceRule.ConsistentView, result.Finding!.Rule);
        Assert.InRange(result.Shrunk!.Executed.Count, 1, 8);
        Assert.StartsWith("dv_iova_", result.Finding.Call);
    }

    [CFact]
    public void ASegfaultIsACrashFindingAndTheSuiteGoesOnWithTheNextAllocator()
    {
        using var plugged = PluggedAllocatorTests.Load(CAllocators.Example("segv"));
        var result = Run(C(plugged));
        Assert.Equal(ConformanceRule.Crash, result.Finding?.Rule);
        Assert.Contains("crashed (SIGSEGV, signal 11) in dv_iova_free_fast", result.Finding!.Message);
        Assert.True(result.Shrunk!.Executed.Count <= 12, $"{result.Shrunk.Executed.Count} calls");
        Assert.True(plugged.HostRestarts > 0);
        // The same loaded allocator keeps serving fresh spaces after its host died.
        Assert.True(Run(C(plugged), new ConformanceOptions { Cases = 1, CallsPerCase = 6 }).Cases == 1);
    }

    [CFact]
    public void ACallThatNeverReturnsIsAHangFinding()
    {
        using var plugged = PluggedAllocatorTests.Load(CAllocators.Example("hang"), timeoutSeconds: 2);
        var result = Run(C(plugged), Default with { MaxShrinkRuns = 6 });
        Assert.Equal(ConformanceRule.Hang, result.Finding?.Rule);
        Assert.StartsWith("dv_iova_alloc_fast(", result.Finding!.Call);
        Assert.InRange(result.Shrunk!.Executed.Count, 1, 8);
    }

    [Fact]
    public void PlantedDotNetAllocatorsAreCaughtWithTheirCallsWrittenAsTheInterfaceDoes()
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "DmaVerify.Fuzz.TestTargets.dll");
        foreach (var (type, rule, call) in new[]
        {
            ("LimitPlusOne", ConformanceRule.WithinLimits, "AllocFast("),
            ("RefusesThreePages", ConformanceRule.Completeness, "Alloc(pages: 0x3"),
            ("ThrowsOnFivePages", ConformanceRule.Crash, "Alloc(pages: 0x5"),
        })
        {
            var source = ManagedAllocatorType.Load(dll, $"DmaVerify.Fuzz.TestTargets.{type}");
            var result = Run(new AllocatorSubject(type, source.Create));
            Assert.Equal(rule, result.Finding?.Rule);
            Assert.StartsWith(call, result.Finding!.Call);
            Assert.InRange(result.Shrunk!.Executed.Count, 1, 8);
        }
        var correct = ManagedAllocatorType.Load(dll, "DmaVerify.Fuzz.TestTargets.WrappedAugmented");
        Assert.True(Run(new AllocatorSubject("WrappedAugmented", correct.Create)).Passed);
    }

    [Fact]
    public void TheShippedAllocatorsConform()
    {
        foreach (var subject in Implementations.Allocators)
            Assert.True(Run(subject).Passed, subject.Name);
    }

    [Fact]
    public void TheCaseTextFormRoundTripsAndBadLinesAreNamed()
    {
        var c = new AllocatorCase(3, 14,
        [
            new AllocFastCall(3, 0xFF, true), new AllocCall(5, 0x100, false), new FreeCall(1, 2), new FreeFastCall(0),
            new FreeUnheldCall(0x40), new ReserveCall(0x10, 0x20), new FlushCall(),
        ]);
        string text = c.ToText("a comment\nover two lines");
        Assert.True(AllocatorCase.LooksLike(text));
        Assert.True(AllocatorCase.TryParse(text, "c.iova", out var parsed, out var errors), string.Join("\n", errors));
        Assert.Equal(c.Calls, parsed.Calls);
        Assert.Equal((3UL, 14), (parsed.StartPfn, parsed.GranuleShift));

        Assert.False(AllocatorCase.TryParse("space start_pfn=0x1 granule_shift=12\nalloc_fast pages=zz limit_pfn=0x10\nfrobnicate\nfree_fast 0x10\n", "bad.iova", out _, out errors));
        Assert.Equal(
        [
            "bad.iova:2: pages=zz is not a number (decimal or 0x hex)",
            "bad.iova:2: missing flush_rcache=",
            "bad.iova:3: unknown call 'frobnicate'; known: alloc_fast, alloc, free, free_fast, reserve, flush_caches",
            "bad.iova:4: '0x10' is not name=value",
            "bad.iova:4: free_fast names a live alloc_fast allocation: free_fast #0",
        ], errors);
        Assert.False(AllocatorCase.TryParse("alloc pages=1 limit_pfn=2 size_aligned=0\n", "nospace.iova", out _, out errors));
        Assert.Equal(["nospace.iova:1: the first line must be 'space start_pfn=0x1 granule_shift=12'"], errors);
    }

    [Fact]
    public void CallsWhosePreconditionsDoNotHoldAreSkippedNotRun()
    {
        // Nothing is live to free, the reservation would cover a live range, the limit is below the start.
        var c = new AllocatorCase(0x10, 12, [new FreeCall(0, 0), new AllocFastCall(1, 0x20, true), new ReserveCall(0x18, 0x20), new AllocCall(1, 0x8, false)]);
        var run = AllocatorConformance.Replay(Implementations.Allocators[0], c);
        Assert.Null(run.Finding);
        Assert.Equal([c.Calls[1]], run.Executed.Select(e => e.Call));
        Assert.Equal("step 0: AllocFast(pages: 0x1, limitPfn: 0x20, flushCachesOnFailure: True) = 0x20", run.Executed[0].ToString());
    }
}
