using DmaVerify.Contracts;
using DmaVerify.Fuzz.Decoding;
using DmaVerify.Fuzz.Targets;
using DmaVerify.Model;
using DmaVerify.Cli.Composition;

namespace DmaVerify.Tests.Fuzzing;

public class DecoderTests
{
    /// <summary>The decoder is total: 10^5 random byte strings of every length from 0 to 400
    /// (short ones included) decode without throwing, on every target, to at most one op per
    /// started 16-byte record.</summary>
    [Fact]
    public void AcceptsEveryByteString()
    {
        var random = new Random(20261122);
        var buffer = new byte[400];
        var targets = FuzzTargets.Names.Select(n => FuzzTargets.Create(n, Implementations.Registry)).ToArray();
        for (int i = 0; i < 100_000; i++)
        {
            int length = random.Next(buffer.Length + 1);
            random.NextBytes(buffer.AsSpan(0, length));
            var target = targets[i % targets.Length];
            var decoded = target.Decode(buffer.AsSpan(0, length));
            Assert.Equal(FuzzEncoding.RecordCount(length), decoded.Ops.Count);
        }
    }

    /// <summary>What a fuzz input decodes to can be written in the text form and read back to the
    /// same scenario, so crash files become replayable .scn regressions.</summary>
    [Fact]
    public void DecodedScenariosRoundTripThroughTheTextForm()
    {
        var random = new Random(7);
        var mixed = FuzzTargets.Create(FuzzTargets.Mixed, Implementations.Registry);
        for (int i = 0; i < 2_000; i++)
        {
            var bytes = new byte[random.Next(200)];
            random.NextBytes(bytes);
            var scenario = mixed.Decode(bytes).ToScenario();
            var parsed = ScenarioParser.Parse(ScenarioPrinter.Print(scenario));
            Assert.True(parsed.IsSuccess, parsed.ErrorText);
            Assert.Equal(scenario, parsed.Scenario);
            Assert.True(scenario.TryBuildPlatform(out _, out string error), error);
        }
    }

    [Fact]
    public void DecodingIsPureAndShortInputsAreFine()
    {
        var target = FuzzTargets.Create(Presets.X86Vtd, Implementations.Registry);
        Assert.Empty(target.Decode([]).Ops);
        Assert.Empty(target.Decode([1, 2, 3, 4]).Ops);
        Assert.Single(target.Decode([0, 0, 0, 0, 0]).Ops); // a started record is zero-padded
        var bytes = Enumerable.Range(0, 100).Select(i => (byte)(i * 37)).ToArray();
        Assert.Equal(target.Decode(bytes).ToScenario(), target.Decode(bytes).ToScenario());
    }

    /// <summary>The builder writes what the decoder reads.</summary>
    [Fact]
    public void BuilderAndDecoderAgree()
    {
        var (platform, anchors) = PresetCatalog.Get(Presets.Direct);
        byte low = FuzzInputBuilder.AnchorOf(anchors, platform.Ram[0].Start);
        var bytes = new FuzzInputBuilder()
            .Add(new OpRecord(OpKind.Map, Target: 1, Flags: 1, Size: FuzzInputBuilder.SizeOf(0x3000), Anchor: low, Value: 0x2000))
            .Add(new OpRecord(OpKind.Unmap, Target: 1, Flags: 1))
            .ToArray();
        var ops = FuzzTargets.Create(Presets.Direct, Implementations.Registry).Decode(bytes).Ops;
        Assert.Equal(new Map(1, new PhysAddr(platform.Ram[0].Start + 0x2000), 0x3000, DmaDirection.ToDevice), ops[0]);
        Assert.Equal(new Unmap(1, new LiveRef(0), 0x3000, DmaDirection.ToDevice), ops[1]); // length 0 = the device's last map
    }

    [Fact]
    public void MixedHeaderPicksEveryPreset()
    {
        var mixed = FuzzTargets.Create(FuzzTargets.Mixed, Implementations.Registry);
        var seen = Enumerable.Range(0, FuzzTargets.CurrentPresets.Count).Select(i => mixed.Decode([.. FuzzFormat.Prefix(), (byte)i]).Preset).ToHashSet();
        Assert.Equal(FuzzTargets.CurrentPresets.ToHashSet(), seen);
    }
}
