using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;
using Xunit.Abstractions;
using DmaVerify.Cli.Composition;

namespace DmaVerify.Tests.Dma;

/// <summary>
/// Issue #3's long side-by-side runs: per preset a fixed seeded sequence of mixed ops (DMA API,
/// domains, IOMMU API, misuse, time) on "optimized" and on "linuxstyle", each checked op by op
/// against the model, invariants on the implementation's state every
/// <see cref="InvariantEvery"/> ops and at the end. LinuxStyle runs with Linux's 32-bit-first
/// pass (StrictPci32First = false) and its max32 refusals counted as known incompleteness; any
/// other divergence fails. Default length <see cref="DefaultOps"/>; the full 10^4 with
/// <c>DMAVERIFY_REFINEMENT_OPS=10000</c> (see docs/benchmarks.md, "test sizes").
/// </summary>
public class LongRefinementTests(ITestOutputHelper output)
{
    public const int DefaultOps = 2500;
    public const int InvariantEvery = 500;
    public const string OpsVariable = "DMAVERIFY_REFINEMENT_OPS";

    public static int OpsPerRun =>
        int.TryParse(Environment.GetEnvironmentVariable(OpsVariable), out int n) && n > 0 ? n : DefaultOps;

    public static TheoryData<string, string> PresetsTimesImplementations()
    {
        var data = new TheoryData<string, string>();
        foreach (var preset in Presets.Names)
            foreach (var impl in new[] { Implementations.Optimized, Implementations.LinuxStyle })
                data.Add(preset, impl);
        return data;
    }

    [Theory]
    [MemberData(nameof(PresetsTimesImplementations))]
    public void MixedOpsRefineTheModel(string preset, string implementation)
    {
        var platform = Presets.Get(preset);
        var session = new RefinementSession(platform, Implementations.Registry.Get(implementation).Create, new RefinementOptions
        {
            InvariantEvery = InvariantEvery,
            Model = Implementations.Registry.Get(implementation).ModelOptions,
            AcceptKnownIncompleteness = implementation == Implementations.LinuxStyle,
        });
        var generator = new DomainOps(platform, new Random(31_337 + preset.Length * 101));
        int ops = OpsPerRun, succeeded = 0;
        for (int step = 0; step < ops && !session.Failed; step++)
            if (session.Step(generator.Next(session.ModelState)) is null && session.Steps[^1].Expected!.IsSuccess) succeeded++;
        session.CheckInvariants();

        var known = (IKnownIncompleteness)session.Implementation;
        output.WriteLine($"{preset} {implementation}: {session.Steps.Count} ops, {succeeded} succeeded; " +
                         $"{session.KnownDeviations.Count} known-incompleteness divergence(s); {known.KnownIncompletenessSummary}");
        foreach (var k in session.KnownDeviations) output.WriteLine($"  known: {k}");
        Assert.True(session.Finding is null,
            $"{preset} {implementation}: {session.Finding}\nlast ops:\n{string.Join("\n", session.Steps.TakeLast(15).Select(s => ScenarioPrinter.FormatOp(s.Op)))}");
        Assert.Equal(ops, session.Steps.Count);
        Assert.True(succeeded > ops / 4, $"only {succeeded} of {ops} ops succeeded: the generator no longer reaches the mapping paths");
        if (implementation == Implementations.Optimized) Assert.Empty(session.KnownDeviations);
    }
}
