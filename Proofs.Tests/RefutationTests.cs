using System.Reflection;
using DmaVerify.Proofs;
using DmaVerify.Proofs.Running;

namespace DmaVerify.Tests.ProofTests;

/// <summary>Each planted bug is refuted, its counterexample fails when the planted code runs, and
/// holds when the real kernel runs on it; the generated test names the same code.</summary>
public sealed class RefutationTests
{
    public static TheoryData<string, string, string> Planted => new()
    {
        { "PO-40", "DmaWindow.IsCapable", nameof(PlantedKernels.IsCapableStrict) },
        { "PO-08", "GartPte.Encode", nameof(PlantedKernels.GartEncodeShiftOffByOne) },
        { "PO-30", "IovaFit.HighestStartBelow", nameof(PlantedKernels.HighestStartAlignedBySize) },
        { "PO-35", "MagazineRules.FitsLimit", nameof(PlantedKernels.FitsLimitUnchecked) },
        { "PO-50", "SgRules.PadBefore", nameof(PlantedKernels.PadBeforeInverted) },
        { "PO-20", "PageSizeRule.Choose", nameof(PlantedKernels.ChoosePageSizeIovaOnly) },
        { "PO-42", "DmaWindow.OverlapsAperture", nameof(PlantedKernels.OverlapsApertureStrict) },
        { "PO-52", "SgRules.GartJoinsChunk", nameof(PlantedKernels.GartJoinsChunkWrapping) },
        { "PO-01", "VtdSsPte.EncodeLeaf", nameof(PlantedKernels.VtdEncodeLeafWithoutPageSize) },
    };

    [Theory]
    [MemberData(nameof(Planted))]
    public void Planted_bug_is_refuted_and_its_counterexample_fails_when_executed(string id, string role, string planted)
    {
        var method = typeof(PlantedKernels).GetMethod(planted, BindingFlags.Public | BindingFlags.Static)!;
        var kernels = KernelSet.Default.With(role, method);
        var obligation = ObligationCatalog.ById(id);

        var outcome = Prover.Prove(obligation, kernels);

        Assert.True(outcome.Status == ProofStatus.Refuted, $"{id} on {planted}: {outcome.Status} {outcome.Message}");
        var cex = outcome.Counterexample!;
        var onPlanted = Prover.Execute(obligation, kernels, cex);
        Assert.True(onPlanted.PreconditionsHold && !onPlanted.Holds, onPlanted.Describe());
        Assert.Contains(onPlanted.Calls, c => c.Contains(planted, StringComparison.Ordinal));
        var onReal = Prover.Execute(obligation, KernelSet.Default, cex);
        Assert.True(onReal.Holds, $"the real kernel should satisfy {id} on the counterexample: {onReal.Describe()}");

        string test = CounterexampleTest.Generate(outcome, kernels);
        Assert.Contains($"ObligationCatalog.ById(\"{id}\")", test, StringComparison.Ordinal);
        Assert.Contains($".With(\"{role}\", typeof(DmaVerify.Tests.ProofTests.PlantedKernels).GetMethod(\"{planted}\")!)", test, StringComparison.Ordinal);
        foreach (var (name, value) in cex) Assert.Contains($"[\"{name}\"] = 0x{value:X}UL", test, StringComparison.Ordinal);
    }
}
