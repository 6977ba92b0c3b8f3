using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;
using DmaVerify.Properties.Tests.Support;
using Xunit.Abstractions;
using DmaVerify.Cli.Composition;

namespace DmaVerify.Properties.Tests.Catalogue;

/// <summary>
/// Long sizes (opt-in: DMAVERIFY_LONG=1, Category=Long): sequences of about 10^3 ops on every
/// preset, and map-heavy sequences that reach 10^4 live mappings, against the optimized
/// implementation. The invariant check runs every 100 (resp. 1000) steps, since exporting and
/// checking the state costs O(state).
/// </summary>
[Trait("Category", "Long")]
public class LongRunTests(ITestOutputHelper output)
{
    public static TheoryData<string> PresetNames() => new(Presets.Names);

    [Theory, MemberData(nameof(PresetNames))]
    public void ThousandOpSequencesRefineTheModel(string preset)
    {
        if (!LongRuns.Enabled) { output.WriteLine($"set {LongRuns.Variable}=1 to run"); return; }
        var spec = PropertyCatalogue.Refinement(Implementations.Registry.Get(Implementations.Optimized), preset) with
        {
            Name = $"long/refine/optimized/{preset}", DefaultBudget = 10, EndSize = 100, InvariantEvery = 100,
            Generation = new GenerationOptions { OpsPerSize = 10 },
        };
        var result = TestLog.MustPass(spec, output);
        output.WriteLine($"{result.OpsRun} ops in {result.Seconds:F1} s");
    }

    [Fact]
    public void TenThousandLiveMappingsRefineTheModel()
    {
        if (!LongRuns.Enabled) { output.WriteLine($"set {LongRuns.Variable}=1 to run"); return; }
        var spec = PropertyCatalogue.Refinement(Implementations.Registry.Get(Implementations.Optimized), Presets.X86Vtd) with { InvariantEvery = 1000 };
        var options = new GenerationOptions { Kinds = OpKinds.Map, Swarm = false, MaxExtraDevices = 0 };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var c = CaseGen.Ops(Presets.X86Vtd, ValueList<DeviceConfig>.Empty, options.Kinds, 12_000, 100, 20_261_122, options);
        var sim = new CaseSimulator(c.BuildPlatform());
        for (int i = 0; i < c.Ops.Count; i++) sim.Apply(c.Ops[i].Op, i);
        Assert.True(sim.State.Mappings.Count >= 10_000, $"only {sim.State.Mappings.Count} live mappings");
        var finding = spec.Execute(c);
        Assert.True(finding is null, $"{finding}");
        output.WriteLine($"{c.Ops.Count} ops, {sim.State.Mappings.Count} live mappings, generated and refined in {clock.Elapsed.TotalSeconds:F1} s");
    }
}
