using DmaVerify.Cli.Composition;
using DmaVerify.Contracts;
using DmaVerify.Fuzz.Decoding;
using DmaVerify.Fuzz.Targets;

namespace DmaVerify.Tests.Fuzzing;

/// <summary>
/// Format version 2 adds aimed records (kind and flags bytes both with bit 7): their sizes,
/// addresses and handles come from the state the earlier ops leave, run on the model as they
/// decode. Records without the mark decode as in version 1, and version-1 inputs ignore the
/// mark (their meaning is frozen).
/// </summary>
public class AimedDecodingTests
{
    private const byte Aim = OpDecoder.AimBit;
    private const int Sata = 1; // x86-vtd: 32-bit PCI device

    private static string Text(string target, byte[] input) =>
        ScenarioPrinter.Print(FuzzTargets.Create(target, Implementations.Registry).Decode(input).ToScenario());

    private static IReadOnlyList<Op> Ops(byte[] input) => FuzzTargets.Create("x86-vtd", Implementations.Registry).Decode(input).Ops;

    /// <summary>A record built by the builder with the aim mark set on its kind and flags bytes.</summary>
    private static byte[] Marked(byte[] input, params int[] records)
    {
        var copy = (byte[])input.Clone();
        int prefix = FuzzFormat.PrefixLength(copy);
        foreach (int r in records)
        {
            int at = prefix + FuzzEncoding.RecordOffset(r);
            copy[at + FuzzEncoding.FieldKind] |= Aim;
            copy[at + FuzzEncoding.FieldFlags] |= Aim;
        }
        return copy;
    }

    private static FuzzInputBuilder TwoMapsAndAnUnmap(byte version) => new FuzzInputBuilder(version: version)
        .Add(new OpRecord(OpKind.Map, Target: Sata, Flags: 1, Size: FuzzInputBuilder.SizeOf(0x1000), Value: 0x100_0000))
        .Add(new OpRecord(OpKind.Map, Target: Sata, Flags: 1, Size: FuzzInputBuilder.SizeOf(0x2000), Value: 0x200_0000))
        .Add(new OpRecord(OpKind.Unmap, Target: Sata, Flags: 1, Size: FuzzInputBuilder.SizeOf(0x1000), Index: 0));

    [Fact]
    public void UnmarkedRecordsDecodeAsInVersion1AndVersion1IgnoresTheMark()
    {
        var v1 = TwoMapsAndAnUnmap(1).ToArray();
        var v2 = TwoMapsAndAnUnmap(2).ToArray();
        Assert.Equal(Text("x86-vtd", v1), Text("x86-vtd", v2));
        Assert.Equal(Text("x86-vtd", v1), Text("x86-vtd", Marked(v1, 0, 1, 2)));
        Assert.NotEqual(Text("x86-vtd", v2), Text("x86-vtd", Marked(v2, 0, 1, 2)));
    }

    [Fact]
    public void AnAimedMapFillsTheGapTheAllocatorFillsNext()
    {
        // Index 0 picks the first aim: the largest map that fits above the MSI window (16 MiB).
        var ops = Ops(Marked(TwoMapsAndAnUnmap(2).ToArray(), 0));
        var map = Assert.IsType<Map>(ops[0]);
        Assert.Equal(16UL << 20, map.Length);
        Assert.Equal(0UL, map.Phys.Value % 0x1000);
    }

    [Fact]
    public void AnAimedUnmapTakesTheNewestMappingWithItsOwnSize()
    {
        var ops = Ops(Marked(TwoMapsAndAnUnmap(2).ToArray(), 2));
        var unmap = Assert.IsType<Unmap>(ops[2]);
        Assert.Equal(new LiveRef(1), unmap.Handle);
        Assert.Equal(0x2000UL, unmap.Length);
    }

    [Fact]
    public void DecodingIsPureAndTotal()
    {
        var random = new Random(11);
        for (int i = 0; i < 300; i++)
        {
            var body = new byte[4 + 16 * random.Next(1, 12)];
            random.NextBytes(body);
            byte[] input = [.. FuzzFormat.Prefix(2), .. body];
            foreach (var target in new[] { "x86-vtd", "k8-gart", "power-tce", "mixed" })
                Assert.Equal(Text(target, input), Text(target, input));
        }
    }
}
