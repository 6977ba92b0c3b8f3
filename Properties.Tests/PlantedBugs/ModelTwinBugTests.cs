using DmaVerify.Cli.Composition;
using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;
using DmaVerify.Properties.Tests.Catalogue;
using Xunit.Abstractions;

namespace DmaVerify.Properties.Tests.PlantedBugs;

/// <summary>
/// Refinement sees a mistake the model makes alone. The model and Optimized once shared the
/// code of two rules (the TCE window's limit ignoring the bus DMA limit; an untrusted device's
/// unaligned buffer mapped through the GART or TCE table instead of refused), so a slip there
/// would have been made on both sides and refinement could not see it. Now Optimized decides
/// from its own code: each slip is planted in the model only, and the default refine run of
/// the preset against the real Optimized finds the two sides parting, shrunk to at most 8 ops.
/// </summary>
public class ModelTwinBugTests(ITestOutputHelper output)
{
    [Fact]
    public void TheRefineRunAgainstOptimizedFindsTheModelMappingUnalignedUntrustedBuffersThroughTheGart()
    {
        const string run = "refine/optimized/k8-gart";
        const ModelPlant plant = ModelPlant.UntrustedUnalignedThroughTable;
        // The slip needs an untrusted generated device and an unaligned buffer the GART must
        // remap: about one case in several hundred, so the run gets a larger budget than its default.
        var spec = (PropertySpec)TestCatalogue.Default.Get(run);
        var planted = spec with { DefaultBudget = 3000, Name = $"{run}+model-{plant}", Model = new ModelOptions { Plants = plant } };
        var result = planted.Run(PlantedBugTests.Quiet(output));
        output.WriteLine(result.Report());
        Assert.False(result.Passed, $"{run} did not see the model's {plant} in {result.TestsRun} cases");
        Assert.Equal(FindingKind.Divergence, result.Finding!.Kind);
        Assert.True(result.ShrunkOps <= PlantedBugTests.MaxShrunkOps, $"{plant} shrunk only to {result.ShrunkOps} ops:\n{result.Report()}");
    }

    /// <summary>The TCE slip shows only once the window below the device's bus limit is full:
    /// Optimized then refuses, the planted model maps above the limit. Random cases rarely fill a
    /// 1 GiB range, so this case fills it on purpose.</summary>
    [Fact]
    public void RefinementAgainstOptimizedFindsTheModelIgnoringTheBusLimitOfATceDevice()
    {
        var scenario = ScenarioParser.Parse("""
            preset power-tce
            device 3 name=nvme iommu=0 mask=0xFFFFFFFF coherent=0xFFFFFFFF bus-limit=0x3FFFFFFF pci boundary=0xFFFFFFFF
            map dev=3 phys=0x0 len=0x40000000 dir=bidirectional
            map dev=3 phys=0x40000000 len=0x1000 dir=bidirectional
            """).Scenario!;
        var optimized = Implementations.Registry.Get(Implementations.Optimized);
        RefinementReport Run(ModelPlant plant) => RefinementSession.Run(scenario.BuildPlatform(), scenario.Steps.Select(s => s.Op), optimized.Create,
            new RefinementOptions { Model = optimized.ModelOptions with { Plants = plant } });

        Assert.True(Run(ModelPlant.None).Passed, "the case must pass against the unplanted model");
        var planted = Run(ModelPlant.TceIgnoresBusLimit);
        Assert.False(planted.Passed, "refinement did not see the model ignoring the bus limit");
        output.WriteLine(planted.Finding!.Message);
        Assert.Equal(FindingKind.Divergence, planted.Finding.Kind);
    }
}
