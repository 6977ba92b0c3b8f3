using DmaVerify.Model;
using DmaVerify.Optimized.Dma;
using DmaVerify.Tests.Model;

namespace DmaVerify.Tests.Dma;

/// <summary>OptimizedSystem against the reference model: fixed-seed random op sequences on every
/// preset; each outcome must be one the model accepts, and the exported state must satisfy
/// every invariant every 50 ops.</summary>
public class RefinementTests
{
    public const int OpsPerPreset = 2000;

    [Theory]
    [MemberData(nameof(RandomRunTests.AllPresets), MemberType = typeof(RandomRunTests))]
    public void OptimizedRefinesModel(string preset)
    {
        var platform = Presets.Get(preset);
        var model = new ModelSystem(platform);
        var impl = new OptimizedSystem(platform);
        var generator = new RandomOps(platform, new Random(4242 + preset.Length));
        var history = new List<string>();
        for (int step = 0; step < OpsPerPreset; step++)
        {
            var op = generator.Next(model.State);
            var outcome = impl.Apply(op);
            history.Add($"{ScenarioPrinter.FormatOp(op)}  # -> {ScenarioPrinter.FormatOutcome(outcome)}");
            var result = model.Check(op, outcome);
            Assert.True(result.Agrees, $"{preset} step {step}: {result.Divergence}\nops:\n{string.Join("\n", history)}");
            if (step % 50 == 49)
            {
                var violations = InvariantChecker.Check(impl.ExportState()).ToList();
                Assert.True(violations.Count == 0, $"{preset} step {step}:\n  {string.Join("\n  ", violations)}\nops:\n{string.Join("\n", history)}");
            }
        }
    }
}
