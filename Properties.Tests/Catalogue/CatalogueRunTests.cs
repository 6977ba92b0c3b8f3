using DmaVerify.Properties.Tests.Support;
using Xunit.Abstractions;

namespace DmaVerify.Properties.Tests.Catalogue;

/// <summary>Every run of the catalogue at its default budget (× DMAVERIFY_MAXTEST).</summary>
public class CatalogueRunTests(ITestOutputHelper output)
{
    public static TheoryData<string> Runs(string engine)
    {
        var data = new TheoryData<string>();
        foreach (var run in PropertyCatalogue.All.Where(r => r.EngineName == engine)) data.Add(run.Name);
        return data;
    }

    public static TheoryData<string> InvariantRuns() => Runs("invariants");
    public static TheoryData<string> RefinementRuns() => Runs("refine");
    public static TheoryData<string> TopologyRuns() => Runs("topology");
    public static TheoryData<string> FaultRuns() => Runs("faults");

    [Theory, MemberData(nameof(InvariantRuns))]
    public void InvariantsHold(string name) => TestLog.MustPass(PropertyCatalogue.Get(name), output);

    [Theory, MemberData(nameof(RefinementRuns))]
    public void ImplementationRefinesTheModel(string name) => TestLog.MustPass(PropertyCatalogue.Get(name), output);

    [Theory, MemberData(nameof(TopologyRuns))]
    public void SeveralDevicesRefineTheModel(string name) => TestLog.MustPass(PropertyCatalogue.Get(name), output);

    [Theory, MemberData(nameof(FaultRuns))]
    public void EveryAllocationFailureUnrolls(string name) => TestLog.MustPass(PropertyCatalogue.Get(name), output);
}
