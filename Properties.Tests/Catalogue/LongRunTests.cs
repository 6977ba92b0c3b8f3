using DmaVerify.Harness;
using DmaVerify.Model;
using DmaVerify.Properties.Tests.Support;
using Xunit.Abstractions;

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
        var spec = PropertyCatalogue.Refinement(Implementations.Optimized, preset) with
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
        var spec = PropertyCatalogue.Refinement(Implementations.Optimized, Presets.X86Vtd) with
        {
            Name = "long/live-mappings/optimized/x86-vtd", DefaultBudget = 2, EndSize = 100, InvariantEvery = 1000,
            Generation = new GenerationOptions { OpsPerSize = 110, Kinds = OpKinds.Map | OpKinds.Access, Swarm = false, MaxExtraDevices = 0 },
        };
        var result = TestLog.MustPass(spec, output);
        output.WriteLine($"{result.OpsRun} ops in {result.Seconds:F1} s");
    }
}
