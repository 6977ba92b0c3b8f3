using DmaVerify.Fuzz.Afl;
using DmaVerify.Fuzz.Instrumentation;
using DmaVerify.Fuzz.Targets;
using DmaVerify.Tests.FuzzInstrumentation;
using DmaVerify.Cli.Composition;

namespace DmaVerify.Tests.FuzzAfl;

/// <summary>The named fuzz targets, as `verify fuzz-afl x86-vtd` runs them: on instrumented copies
/// of Model, Optimized and Harness, with the same verdicts as the uninstrumented targets.</summary>
[Collection(CoverageMapCollection.Name)]
public class InstrumentedFuzzTargetTests(InstrumentedFixture fixture) : IClassFixture<InstrumentedFixture>
{
    [Fact]
    public void ANamedTargetRunsOnInstrumentedCopiesWithTheSameVerdictsAndFillsTheMap()
    {
        var instrumented = InstrumentedFuzzTargets.Load("mixed", fixture.CacheDir, Implementations.Registry);
        var original = FuzzTargets.Create("mixed", Implementations.Registry);
        var random = new Random(5);
        using var map = new ManagedCoverageMap();
        int edges = 0;
        for (int i = 0; i < 60; i++)
        {
            var input = new byte[random.Next(0, 200)];
            random.NextBytes(input);
            map.Clear();
            string? expected = Verdict(() => original.Run(input));
            map.Clear(); // the original run records outcome features in the map too
            string? actual = Verdict(() => instrumented(input));
            Assert.Equal(expected, actual);
            edges = Math.Max(edges, map.EdgesHit());
        }
        Assert.True(edges > 300, $"at most {edges} edges hit by one input");
    }

    [Fact]
    public void AnUnknownTargetNameIsRefusedWithTheKnownNames()
    {
        var e = Assert.Throws<ArgumentException>(() => InstrumentedFuzzTargets.Load("no-such-target", fixture.CacheDir, Implementations.Registry));
        Assert.Contains("x86-vtd", e.Message);
    }

    /// <summary>Null for a pass; else the finding's text (the exception type differs across load
    /// contexts, its message does not).</summary>
    private static string? Verdict(Action run)
    {
        try
        {
            run();
            return null;
        }
        catch (Exception e)
        {
            return $"{e.GetType().FullName}: {e.Message}";
        }
    }
}
