using DmaVerify.Cli.Composition;
using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;

namespace DmaVerify.Properties.Tests.PlantedBugs;

/// <summary>
/// The invariants catch the old behaviour of the four rules fixed in the model and both
/// implementations: each plant (<see cref="OnDistortedPlatform"/>, <see cref="SgExhaustionClaimed"/>) runs the scenario of its
/// regression file, and the checker (or, for INV-11, the model's Check) names the invariant;
/// the same scenario on the unplanted implementations is clean.
/// </summary>
public class ModelRulePlantsTests
{
    private static Func<PlatformConfig, ISystemUnderTest> Real(string implementation) => Implementations.Registry.Get(implementation).Create;

    private static Scenario Parse(string text)
    {
        var parsed = ScenarioParser.Parse(text);
        Assert.True(parsed.IsSuccess, parsed.ErrorText);
        return parsed.Scenario!;
    }

    /// <summary>Applies every op (outcomes ignored) and returns the checker's verdict on the end state.</summary>
    private static IReadOnlyList<Violation> RunAndCheck(Scenario scenario, Func<PlatformConfig, ISystemUnderTest> factory)
    {
        var system = factory(scenario.BuildPlatform());
        foreach (var step in scenario.Steps) system.Apply(step.Op);
        return InvariantChecker.Check(system.ExportState());
    }

    private const string DirectDeviceInAperture = """
        preset k8-gart
        device 3 name=x iommu=none mask=0xFFFFFFFF coherent=0xFFFFFFFF
        map dev=3 phys=0x40100000 len=0x1000 dir=to_device
        """;

    private const string UserMapsOverRegions = """
        preset x86-vtd
        alloc-domain iommu=0 type=unmanaged
        iommu-map domain=4 iova=0x7A000000 phys=0x10000000 size=0x1000 prot=rw
        """;

    private const string UserMapOverSwMsi = """
        preset arm-smmu
        alloc-domain iommu=0 type=unmanaged
        iommu-map domain=3 iova=0x8000000 phys=0x90000000 size=0x1000 prot=rw
        """;

    private const string VirtioBypassBehindGart = """
        preset k8-gart
        device 4 name=gen4 iommu=0 mask=0x3FFFFFFFFF coherent=0x3FFFFFFFFF boundary=0xFFFFFFFF virtio=bypass
        """;

    private const string VirtioBypassBehindTce = """
        preset power-tce
        device 3 name=gen3 iommu=0 mask=0xFFFFFFFFFFFFFFFF coherent=0xFFFFFFFFFFFFFFFF pci virtio=bypass
        """;

    public static TheoryData<string> ImplementationNames() => new(Implementations.Names);

    [Theory, MemberData(nameof(ImplementationNames))]
    public void DirectMapInTheGartApertureIsAnInv04Violation(string implementation)
    {
        var scenario = Parse(DirectDeviceInAperture);
        Assert.Empty(RunAndCheck(scenario, Real(implementation)));
        var found = RunAndCheck(scenario, OnDistortedPlatform.DirectMapInGartAperture(Real(implementation)));
        var v = Assert.Single(found);
        Assert.Equal("INV-04", v.Invariant);
        Assert.Contains("GART aperture", v.Explanation);
    }

    [Theory]
    [InlineData(UserMapsOverRegions, "Direct region")]
    [InlineData(UserMapOverSwMsi, "SwMsi region")]
    public void UserMapOverAReservedRegionIsAnInv03Violation(string text, string region)
    {
        var scenario = Parse(text);
        foreach (string implementation in Implementations.Names)
        {
            Assert.Empty(RunAndCheck(scenario, Real(implementation)));
            var found = RunAndCheck(scenario, OnDistortedPlatform.UserMapOverReservedRegion(Real(implementation)));
            var v = Assert.Single(found);
            Assert.Equal("INV-03", v.Invariant);
            Assert.Contains(region, v.Explanation);
            Assert.Contains("unmanaged domain", v.Explanation);
        }
    }

    [Theory]
    [InlineData(VirtioBypassBehindGart)]
    [InlineData(VirtioBypassBehindTce)]
    public void VirtioBypassInATranslatingDomainIsAnInv13Violation(string text)
    {
        var scenario = Parse(text);
        foreach (string implementation in Implementations.Names)
        {
            Assert.Empty(RunAndCheck(scenario, Real(implementation)));
            var found = RunAndCheck(scenario, OnDistortedPlatform.VirtioBypassInTranslatingDomain(Real(implementation)));
            Assert.Contains(found, v => v.Invariant == "INV-13" && v.Explanation.Contains("Dma domain"));
        }
    }

    [Fact]
    public void ClaimedExhaustionOfAListThatFitsIsAnInv11Divergence()
    {
        var scenario = Parse("""
            preset power-tce
            device 3 name=gen3 iommu=0 mask=0xFFFFFFFFFFFFFFFF coherent=0xFFFFFFFFFFFFFFFF boundary=0xFFFF pci
            map-sg dev=3 segs=0x2E581C3C+0x1,0x3F390000+0x1000 dir=bidirectional
            """);
        var ops = scenario.Steps.Select(s => s.Op).ToList();
        foreach (string implementation in Implementations.Names)
        {
            Assert.True(RefinementSession.Run(scenario.BuildPlatform(), ops, Real(implementation)).Passed);
            var report = RefinementSession.Run(scenario.BuildPlatform(), ops, SgExhaustionClaimed.Over(Real(implementation)));
            Assert.Equal(FindingKind.Divergence, report.Finding?.Kind);
            Assert.Equal("INV-11", report.Finding!.Invariant);
        }
    }
}
