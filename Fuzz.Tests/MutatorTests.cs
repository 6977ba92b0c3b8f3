using DmaVerify.Fuzz.Decoding;
using DmaVerify.Fuzz.Mutation;

namespace DmaVerify.Tests.Fuzzing;

public class MutatorTests
{
    private static readonly FuzzDictionary Dictionary = FuzzDictionary.ForTarget("mixed");

    private static byte[] Records(int count)
    {
        var bytes = new byte[FuzzEncoding.RecordOffset(count)];
        for (int r = 0; r < count; r++) bytes.AsSpan(FuzzEncoding.RecordOffset(r), FuzzEncoding.RecordSize).Fill((byte)(r + 1));
        return bytes;
    }

    [Fact]
    public void MutationsStayWithinMaxLenAndNeverThrow()
    {
        var random = new Random(3);
        var mutator = new Mutator(random, Dictionary);
        var buffer = new byte[300];
        int size = 0;
        for (int i = 0; i < 50_000; i++)
        {
            int maxLen = 1 + random.Next(buffer.Length);
            size = Math.Min(size, maxLen);
            size = mutator.Mutate(buffer, size, maxLen, Records(random.Next(4)));
            Assert.InRange(size, 0, maxLen);
            Assert.NotEmpty(mutator.Applied);
        }
    }

    [Fact]
    public void StructureAwareMutationsMoveWholeRecords()
    {
        var mutator = new Mutator(new Random(1), Dictionary);
        var buffer = new byte[200];
        var input = Records(4);

        input.CopyTo(buffer, 0);
        int size = mutator.Apply(MutationKind.OpDelete, buffer, input.Length, buffer.Length, []);
        Assert.Equal(input.Length - FuzzEncoding.RecordSize, size);
        AssertWholeRecords(buffer, size, expectedRecords: 3);

        input.CopyTo(buffer, 0);
        size = mutator.Apply(MutationKind.OpDuplicate, buffer, input.Length, buffer.Length, []);
        Assert.Equal(input.Length + FuzzEncoding.RecordSize, size);
        AssertWholeRecords(buffer, size, expectedRecords: 5);

        input.CopyTo(buffer, 0);
        size = mutator.Apply(MutationKind.OpSwap, buffer, input.Length, buffer.Length, []);
        if (size > 0) AssertWholeRecords(buffer, size, expectedRecords: 4);

        input.CopyTo(buffer, 0);
        size = mutator.Apply(MutationKind.OpInsert, buffer, input.Length, buffer.Length, []);
        Assert.Equal(input.Length + FuzzEncoding.RecordSize, size);
    }

    /// <summary>Every record of the result is one of the input's records, whole.</summary>
    private static void AssertWholeRecords(byte[] buffer, int size, int expectedRecords)
    {
        Assert.Equal(expectedRecords, FuzzEncoding.RecordCount(size));
        for (int r = 0; r < expectedRecords; r++)
        {
            var record = buffer.AsSpan(FuzzEncoding.RecordOffset(r), FuzzEncoding.RecordSize);
            Assert.True(record.IndexOfAnyExcept(record[0]) < 0, $"record {r} is not whole: {Convert.ToHexString(record)}");
            Assert.InRange(record[0], 1, 4);
        }
    }

    [Fact]
    public void DictionaryHoldsThePresetsEdges()
    {
        var words = Enumerable.Range(0, Dictionary.Count).Select(i => BitConverter.ToUInt64(Dictionary[i])).ToHashSet();
        Assert.Contains(0xFEE0_0000UL, words);        // x86 MSI window
        Assert.Contains(0x0800_0000UL, words);        // ARM SW-MSI window
        Assert.Contains(0x4000_0000UL, words);        // GART aperture start
        Assert.Contains(0xFFFF_FFFFUL, words);        // DMA_BIT_MASK(32)
        Assert.Contains(0xFF_FFFFUL, words);          // DMA_BIT_MASK(24)
    }
}
