using DmaVerify.Properties.Tests.Catalogue;
using DmaVerify.Properties.Tests.PlantedBugs;
using Xunit.Abstractions;

namespace DmaVerify.Properties.Tests.Generators;

/// <summary>
/// What aiming buys: a boundary bug that only shows once the IOVA space is filled up to a
/// reserved region. With reserve_iova given an exclusive end, the last granule of x86's MSI
/// window (0xFEEFF000) stays allocatable, and the top-down allocator reaches it only after the
/// 17 MiB above the window are full. The refinement run on x86-vtd finds it with aimed choices
/// and misses it, on the same budget and seeds, with uniform draws alone.
/// </summary>
public class AimedFindingTests(ITestOutputHelper output)
{
    private const string Bug = "reserve-drops-last-granule";

    private PropertyResult Run(int aimWeight)
    {
        var run = (PropertySpec)TestCatalogue.Default.Get("refine/optimized/x86-vtd");
        var planted = Planting.Planted(run, Bug) with { Generation = run.Generation with { AimWeight = aimWeight } };
        var result = planted.Run(PlantedBugTests.Quiet(output) with { Budget = 40 });
        output.WriteLine($"aim weight {aimWeight}: {(result.Passed ? "passed" : $"found {result.Finding?.Invariant} in {result.ShrunkOps} ops")} after {result.TestsRun} cases, {result.OpsRun} ops");
        return result;
    }

    [Fact]
    public void AimedChoicesFindAReservationBugAtTheMsiWindowThatUniformDrawsMiss()
    {
        var uniform = Run(aimWeight: 0);
        var aimed = Run(aimWeight: new GenerationOptions().AimWeight);
        Assert.True(uniform.Passed, $"uniform draws found it too: {uniform.Finding}");
        Assert.False(aimed.Passed, $"aimed choices missed {Bug} in {aimed.TestsRun} cases");
    }
}
