using DmaVerify.Proofs;
using DmaVerify.Proofs.Running;

namespace DmaVerify.Tests.ProofTests;

/// <summary>Every obligation proves on the real kernels (times: `verify prove`, docs/proofs.md).</summary>
public sealed class ObligationTests
{
    public static TheoryData<string> Ids()
    {
        var data = new TheoryData<string>();
        foreach (var o in ObligationCatalog.All) data.Add(o.Id);
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
