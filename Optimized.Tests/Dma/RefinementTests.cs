using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Tests.Dma;

/// <summary>OptimizedSystem against the reference model: fixed-seed random op sequences on every
/// preset; each outcome must be one the model accepts, and the exported state must satisfy
/// every invariant every 50 ops.</summary>
public class RefinementTests
{
    public const int OpsPerPreset = 2000;

    [Theory]
    [MemberData(nameof(PresetData.All), MemberType = typeof(PresetData))]
    public void DmaApiOpsRefineTheModel(string preset)
    {
        var platform = Presets.Get(preset);
        var run = new SideBySide(preset, platform);
        var generator = new RandomOps(platform, new Random(4242 + preset.Length));
        for (int step = 0; step < OpsPerPreset; step++)
        {
            run.Step(generator.Next(run.Model.State));
            if (step % 50 == 49) run.CheckInvariants();
        }
        run.CheckInvariants();
    }

    [Theory]
    [MemberData(nameof(PresetData.All), MemberType = typeof(PresetData))]
    public void DomainAndIommuApiOpsRefineTheModel(string preset)
    {
        var platform = Presets.Get(preset);
        var run = new SideBySide(preset + " (domains)", platform);
        var generator = new DomainOps(platform, new Random(977 + preset.Length * 31));
        for (int step = 0; step < OpsPerPreset; step++)
        {
            run.Step(generator.Next(run.Model.State));
            if (step % 50 == 49) run.CheckInvariants();
        }
        run.CheckInvariants();
    }
}
