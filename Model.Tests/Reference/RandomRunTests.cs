using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Tests.Model;

/// <summary>
/// The model and the invariant checker judge each other: fixed-seed random op sequences on every
/// preset, and after every op the state and step checks must report nothing. (The FsCheck
/// property runs with shrinking come with the properties work; this is the foundation's
/// cross-check.)
/// </summary>
public class RandomRunTests
{
    [Theory]
    [MemberData(nameof(PresetData.All), MemberType = typeof(PresetData))]
    public void InvariantsHoldAfterEveryOp(string preset)
    {
        for (int seed = 1; seed <= 3; seed++)
        {
            var platform = Presets.Get(preset);
            var model = new ModelSystem(platform);
            var random = new Random(seed * 7919 + preset.GetHashCode(StringComparison.Ordinal) % 1000);
            var generator = new RandomOps(platform, random);
            var history = new List<string>();
            for (int step = 0; step < 400; step++)
            {
                var op = generator.Next(model.State);
                var before = model.State.Clone();
                var outcome = model.Apply(op);
                history.Add($"{ScenarioPrinter.FormatOp(op)}  # -> {ScenarioPrinter.FormatOutcome(outcome)}");
                var violations = InvariantChecker.CheckStep(before, op, outcome, model.State)
                    .Concat(InvariantChecker.Check(model.State)).ToList();
                Assert.True(violations.Count == 0,
                    $"{preset} seed {seed} step {step}:\n  {string.Join("\n  ", violations)}\nops:\n{string.Join("\n", history.TakeLast(12))}");
            }
        }
    }
}
