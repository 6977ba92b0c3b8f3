using DmaVerify.Contracts;
using FsCheck;
using FsCheck.Fluent;

namespace DmaVerify.Properties.Tests.Generators;

/// <summary>Draw.Evaluate runs a generator's own function instead of Gen.Sample: it must give
/// what Sample gives for the same seed and size, or every replay seed would mean another case.</summary>
public class DrawTests
{
    [Fact]
    public void EvaluateGivesWhatSampleGivesForEverySeed()
    {
        var platform = Presets.Get(Presets.X86Vtd);
        var ops = new OpGen(platform, new GenerationOptions());
        var sim = new CaseSimulator(platform);
        var composite = ops.Next(sim, OpKinds.All);
        var list = Gen.ListOf(Gen.Choose(0, 1000)).Select(l => string.Join(",", l));
        for (ulong seed = 1; seed <= 200; seed++)
        {
            var rnd = new Rnd(seed * 0x9E37_79B9_7F4A_7C15UL, 0xBF58_476D_1CE4_E5B9UL);
            int size = (int)(seed % 60);
            Assert.Equal(Gen.Sample(composite, 1, rnd, size)[0], Draw.Evaluate(composite, size, rnd));
            Assert.Equal(Gen.Sample(list, 1, rnd, size)[0], Draw.Evaluate(list, size, rnd));
            Assert.Equal(Gen.Sample(BufferGen.Length, 1, rnd, size)[0], Draw.Evaluate(BufferGen.Length, size, rnd));
        }
    }
}
