using DmaVerify.Properties.Tests.Support;
using Xunit.Abstractions;
using DmaVerify.Cli.Composition;

namespace DmaVerify.Properties.Tests.Catalogue;

/// <summary>Every run of the catalogue at its default budget (× DMAVERIFY_MAXTEST).</summary>
public class CatalogueRunTests(ITestOutputHelper output)
{
    public static TheoryData<string> Runs(string engine)
    {
        var data = new TheoryData<string>();
        foreach (var run in TestCatalogue.Default.All.Where(r => r.EngineName == engine)) data.Add(run.Name);
        return data;
    }

    public static TheoryData<string> InvariantRuns() => Runs("invariants");
    public static TheoryData<string> RefinementRuns() => Runs("refine");
    public static TheoryData<string> TopologyRuns() => Runs("topology");
    public static TheoryData<string> FaultRuns() => Runs("faults");
    public static TheoryData<string> LinearizabilityRuns() => Runs("linearizable");

    [Theory, MemberData(nameof(InvariantRuns))]
    public void InvariantsHold(string name) => TestLog.MustPass(TestCatalogue.Default.Get(name), output);

    [Theory, MemberData(nameof(RefinementRuns))]
    public void ImplementationRefinesTheModel(string name) => TestLog.MustPass(TestCatalogue.Default.Get(name), output);

    [Theory, MemberData(nameof(TopologyRuns))]
    public void SeveralDevicesRefineTheModel(string name) => TestLog.MustPass(TestCatalogue.Default.Get(name), output);

    [Theory, MemberData(nameof(FaultRuns))]
    public void EveryAllocationFailureUnrolls(string name) => TestLog.MustPass(TestCatalogue.Default.Get(name), output);

    /// <summary>Histories of concurrent calls on one system must be linearizable against the
    /// model's sequential semantics (OptimizedSystem serialises every op under one lock;
    /// LinearizabilityTests shows the checker finds a planted race).</summary>
    [Theory, MemberData(nameof(LinearizabilityRuns))]
    public void ConcurrentCallsAreLinearizable(string name) => TestLog.MustPass(TestCatalogue.Default.Get(name), output);

    [Fact]
    public void EveryImplementationHasEveryRun()
    {
        foreach (var impl in Implementations.Names)
            foreach (var engine in new[] { "invariants", "refine", "topology", "faults", "linearizable" })
                Assert.Contains(TestCatalogue.Default.All, r => r.EngineName == engine && r.Name.StartsWith($"{engine}/{impl}/", StringComparison.Ordinal));
        Assert.Equal(TestCatalogue.Default.All.Count, TestCatalogue.Default.All.Select(r => r.Name).Distinct().Count());
    }
}
