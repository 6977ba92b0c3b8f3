namespace DmaVerify.Properties.Tests.Running;

/// <summary>A budget in cases and ops: at least its cases, then batches sized from the measured
/// speed until the op target or the time share is reached; a failure stops it and reports the
/// time to the finding.</summary>
public class PropertyBudgetTests
{
    /// <summary>A run that records every batch it is asked for; each case is 10 ops.</summary>
    private sealed class CountingRun(Func<int, int?> failAt) : INamedRun
    {
        public List<(int Budget, ulong? Seed)> Batches { get; } = [];
        public string Name => "counting";
        public string Preset => "x86-vtd";
        public string EngineName => "test";
        public int DefaultBudget => 4;

        public PropertyResult Run(PropertyRunOptions? options = null)
        {
            int budget = options!.Budget!.Value;
            Batches.Add((budget, options.StartSeed));
            Thread.Sleep(1);
            int done = Batches.Sum(b => b.Budget);
            return failAt(done) is int at
                ? new PropertyResult { Name = Name, Passed = false, TestsRun = at, Seconds = 0.001, OpsRun = at * 10L, ShrunkOps = 3 }
                : new PropertyResult { Name = Name, Passed = true, TestsRun = budget, Seconds = 0.001, OpsRun = budget * 10L };
        }
    }

    [Fact]
    public void AfterItsCasesItRunsBatchesUntilTheOpTarget()
    {
        var run = new CountingRun(_ => null);
        var result = new PropertyBudget(MinCases: 4, TargetOps: 400, TimeSpan.FromSeconds(30)).Run(run, new PropertyRunOptions(), 1);
        Assert.True(result.Passed);
        Assert.Equal(4, run.Batches[0].Budget);
        Assert.True(result.OpsRun >= 400, $"{result.OpsRun} ops");
        Assert.Equal(result.TestsRun * 10L, result.OpsRun);
        Assert.Equal(run.Batches.Count, run.Batches.Select(b => b.Seed).Distinct().Count()); // each batch draws other cases
    }

    [Fact]
    public void TheTimeShareStopsItEvenFarFromTheOpTarget()
    {
        var run = new CountingRun(_ => null);
        var result = new PropertyBudget(MinCases: 4, TargetOps: long.MaxValue / 2, TimeSpan.Zero).Run(run, new PropertyRunOptions(), 1);
        Assert.Single(run.Batches);
        Assert.Equal(4, result.TestsRun);
    }

    [Fact]
    public void AFailureStopsItAndKeepsTheFindingAndTheCount()
    {
        var run = new CountingRun(done => done > 4 ? 2 : null);
        var result = new PropertyBudget(MinCases: 4, TargetOps: 10_000, TimeSpan.FromSeconds(30)).Run(run, new PropertyRunOptions(), 1);
        Assert.False(result.Passed);
        Assert.Equal(2, run.Batches.Count);
        Assert.Equal(4 + 2, result.TestsRun);
        Assert.Equal(3, result.ShrunkOps);
    }
}
