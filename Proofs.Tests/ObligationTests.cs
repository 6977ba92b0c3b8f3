using DmaVerify.Proofs;
using DmaVerify.Proofs.Running;

namespace DmaVerify.Tests.ProofTests;

/// <summary>
/// Every obligation proves on the real kernels. The three that need the most solver work (several
/// seconds each on an idle machine, minutes under load) run only with DMAVERIFY_LONG_PROOFS=1,
/// to keep the default test run within its budget; `verify prove` always runs all of them
/// (times in docs/proofs.md).
/// </summary>
public sealed class ObligationTests
{
    private static readonly HashSet<string> Long = ["PO-32", "PO-35", "PO-43"];

    public static TheoryData<string> Ids()
    {
        bool all = Environment.GetEnvironmentVariable("DMAVERIFY_LONG_PROOFS") == "1";
        var data = new TheoryData<string>();
        foreach (var o in ObligationCatalog.All.Where(o => all || !Long.Contains(o.Id))) data.Add(o.Id);
        return data;
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Proves_on_the_real_kernels(string id)
    {
        var outcome = Prover.Prove(ObligationCatalog.ById(id));
        Assert.True(outcome.Status == ProofStatus.Proved,
            $"{id}: {outcome.Status} {outcome.Message} {outcome.Execution?.Describe()}");
    }

    [Fact]
    public void Ids_are_unique_and_name_an_invariant()
    {
        Assert.Equal(ObligationCatalog.All.Count, ObligationCatalog.All.Select(o => o.Id).Distinct().Count());
        Assert.All(ObligationCatalog.All, o => Assert.Matches(@"^PO-\d\d$", o.Id));
        Assert.All(ObligationCatalog.All, o => Assert.Matches(@"^INV-\d\d$", o.Invariant));
    }
}
