using DmaVerify.Contracts;
using DmaVerify.Fuzz.Decoding;
using DmaVerify.Fuzz.Mutation;
using DmaVerify.Fuzz.Targets;

namespace DmaVerify.Tests.Fuzzing;

/// <summary>
/// The input-to-state mutation inverts the decoder's encodings: given a comparison (a, b) of the
/// code under test, a field that decodes to a is rewritten to decode to b (or b ± 1), whether
/// it is an anchor-relative address, a raw value, an iommu-map IOVA, a length from the size
/// table or a mask width.
/// </summary>
public class InputToStateTests
{
    private sealed class OnePair(ulong a, ulong b) : IOperandTable
    {
        public bool TryGetPair(int pick, out ulong x, out ulong y)
        {
            (x, y) = (a, b);
            return true;
        }
    }

    private static Op DecodeFirst(byte[] input) => FuzzTargets.Create("x86-vtd", (Func<PlatformConfig, ISystemUnderTest>)(_ => null!)).Decode(input).Ops[0];

    /// <summary>Applies the mutation until it has produced each of b - 1, b, b + 1 for the field
    /// <paramref name="read"/> reads (the choice among them is random).</summary>
    private static HashSet<ulong> Reached(byte[] input, ulong a, ulong b, Func<Op, ulong> read)
    {
        var mutation = new InputToState(new OnePair(a, b), "x86-vtd");
        var random = new Random(5);
        var reached = new HashSet<ulong>();
        int prefix = FuzzFormat.PrefixLength(input);
        for (int i = 0; i < 200; i++)
        {
            var copy = (byte[])input.Clone();
            int size = mutation.Apply(copy.AsSpan(prefix), copy.Length - prefix, FuzzFormat.VersionOf(input), random);
            Assert.Equal(copy.Length - prefix, size);
            ulong value = read(DecodeFirst(copy));
            if (value != read(DecodeFirst(input))) reached.Add(value);
        }
        return reached;
    }

    [Fact]
    public void AnAnchorRelativeAddressBecomesTheOtherOperand()
    {
        var (_, anchors) = PresetCatalog.Get("x86-vtd");
        byte anchor = FuzzInputBuilder.AnchorOf(anchors, 0x10_0000);
        var input = new FuzzInputBuilder().Add(new OpRecord(OpKind.Map, Target: 1, Flags: 1, Size: FuzzInputBuilder.SizeOf(0x1000), Anchor: anchor, Value: 0x2000)).ToArray();
        ulong phys = ((Map)DecodeFirst(input)).Phys.Value;
        Assert.Superset(new HashSet<ulong> { 0x7FFF_F000, 0x7FFF_F001 }, Reached(input, phys, 0x7FFF_F000, op => ((Map)op).Phys.Value));
    }

    [Fact]
    public void ALengthFromTheSizeTableBecomesTheOtherOperand()
    {
        var input = new FuzzInputBuilder().Add(new OpRecord(OpKind.Map, Target: 1, Flags: 1, Size: FuzzInputBuilder.SizeOf(0x1000), Value: 0x100_0000)).ToArray();
        var reached = Reached(input, 0x1000, 0x20_0000, op => ((Map)op).Length);
        Assert.Contains(0x20_0000UL, reached);
    }

    [Fact]
    public void AnIommuMapIovaBecomesTheOtherOperand()
    {
        var input = new FuzzInputBuilder().Add(new OpRecord(OpKind.IommuMap, Target: 1, Size: FuzzInputBuilder.SizeOf(0x1000), Extra: 3, Value: 0x0000_0100_0000_0000)).ToArray();
        ulong iova = ((IommuMap)DecodeFirst(input)).Iova.Value;
        Assert.Contains(0xFEE0_0000UL, Reached(input, iova, 0xFEE0_0000, op => ((IommuMap)op).Iova.Value));
    }

    [Fact]
    public void AMaskWidthBecomesTheOtherOperand()
    {
        var input = new FuzzInputBuilder().Add(new OpRecord(OpKind.SetMask, Target: 0, Size: 40 - 24, Index: 40 - 24)).ToArray();
        Assert.Contains(0xFFFF_FFFFUL, Reached(input, (1UL << 40) - 1, 0xFFFF_FFFF, op => ((SetMask)op).Mask));
    }

    [Fact]
    public void WithNoMatchingFieldTheOperandIsWrittenAsAnAddress()
    {
        var input = new FuzzInputBuilder().Add(new OpRecord(OpKind.Map, Target: 1, Flags: 1, Size: FuzzInputBuilder.SizeOf(0x1000), Value: 0x100_0000)).ToArray();
        var reached = Reached(input, 0x1234_5678_9ABC, 0xFEEF_F000, op => ((Map)op).Phys.Value);
        Assert.Contains(0xFEEF_F000UL, reached);
    }
}
