using DmaVerify.Cli.Check;
using DmaVerify.Cli.Composition;
using DmaVerify.Proofs;

namespace DmaVerify.Tests.CliCheck;

/// <summary>
/// `verify check --quick` proves every obligation that takes under 2 s and skips only the
/// expensive ones: every obligation has a measured estimate (on a fresh clone there is no cost
/// file yet), items come cheapest first, the cost file of the last check overrides an estimate
/// both ways, and an expensive item skips at --quick with its cost named but runs by default.
/// </summary>
public sealed class ProofCostsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dmaverify-proofcosts-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private List<CheckItem> Items(string? costs = null)
    {
        if (costs is not null) File.WriteAllText(Path.Combine(_dir, ProofCosts.FileName), costs);
        var environment = new CheckEnvironment(Implementations.Registry, null, _dir);
        return [.. new ProofCheckSource().Items(CheckBudget.For(CheckLevel.Quick, 1), environment)];
    }

    [Fact]
    public void EveryObligationHasAnEstimateAndTheCheapOnesAreMost()
    {
        var ids = ObligationCatalog.All.Select(o => o.Id).ToList();
        Assert.DoesNotContain(ids, id => !ProofCosts.Estimates.ContainsKey(id));
        var costs = ProofCosts.Load(null);
        int cheap = ids.Count(costs.IsCheap);
        Assert.True(cheap > ids.Count / 2 && cheap < ids.Count, $"{cheap} of {ids.Count} obligations estimated under {ProofCosts.QuickLimitSeconds} s");
    }

    [Fact]
    public void ItemsComeCheapestFirst()
    {
        var costs = ProofCosts.Load(null);
        var seconds = Items().Select(i => costs.CostOf(i.Name["proof/".Length..])!.Value.Seconds).ToList();
        Assert.Equal(seconds.Order(), seconds);
    }

    [Fact]
    public void TheLastRunsCostsOverrideTheEstimatesBothWays()
    {
        var costs = ProofCosts.Load(null);
        Assert.False(costs.IsCheap("PO-32"));
        Assert.True(costs.IsCheap("PO-02"));
        File.WriteAllText(Path.Combine(_dir, "costs.tsv"), "PO-32\t0.4\nPO-02\t3.5\nnot a line\n");
        var measured = ProofCosts.Load(Path.Combine(_dir, "costs.tsv"));
        Assert.True(measured.IsCheap("PO-32"));
        Assert.False(measured.IsCheap("PO-02"));
        Assert.Equal((3.5, "last run"), measured.CostOf("PO-02"));
        Assert.Equal("estimate", measured.CostOf("PO-01")!.Value.Source);
    }

    [Fact]
    public void AtQuickAnExpensiveObligationSkipsNamingItsCost()
    {
        var expensive = Items("PO-02\t30\n").Single(i => i.Name == "proof/PO-02");
        var outcome = expensive.Run(new CheckRun(CheckBudget.For(CheckLevel.Quick, 1), new CheckEnvironment(Implementations.Registry, null, _dir), CancellationToken.None, _ => { }));
        Assert.Equal(CheckStatus.Skipped, outcome.Status);
        Assert.Contains("PO-02 30 s last run", outcome.Problem);
        Assert.Contains("PO-32 41 s estimated", outcome.Problem);
        Assert.DoesNotContain("PO-01 ", outcome.Problem);

        // The default level proves it (PO-02 takes hundredths of a second; without libz3 the skip names the package).
        var proved = expensive.Run(new CheckRun(CheckBudget.For(CheckLevel.Default, 1), new CheckEnvironment(Implementations.Registry, null, _dir), CancellationToken.None, _ => { }));
        Assert.True(proved.Status == CheckStatus.Passed || proved.Problem!.Contains("libz3", StringComparison.Ordinal), $"{proved.Status}: {proved.Problem}");
    }
}
