using DmaVerify.Fuzz.Decoding;
using static DmaVerify.Fuzz.Decoding.FuzzEncoding;

namespace DmaVerify.Fuzz.Mutation;

/// <summary>The mutations, by the names status lines print after <c>MS:</c>.</summary>
public enum MutationKind
{
    // Byte-level (libFuzzer's).
    EraseBytes, InsertByte, InsertRepeatedBytes, ChangeByte, ChangeBit, ChangeBinInt, CopyPart, CrossOver, ManualDict,
    // Structure-aware: whole op records and single fields.
    OpInsert, OpDelete, OpDuplicate, OpSwap, OpTweakField, OpDictValue,
    // Comparison feedback (-use_value_profile=1): a recent comparison operand copied into a field.
    CmpOperand,
}

/// <summary>
/// libFuzzer-style mutation stacks over the fuzz input layout: byte mutations that know nothing
/// about the layout beside structure-aware ones that insert, delete, duplicate and swap op
/// records and tweak one field of one record (<see cref="FuzzEncoding"/>). Deterministic for a
/// given <see cref="Random"/> sequence. Works in place on a caller's buffer (no allocation).
/// </summary>
public sealed class Mutator(Random random, FuzzDictionary dictionary, InputToState? inputToState = null)
{
    private static readonly MutationKind[] BaseKinds = [.. Enum.GetValues<MutationKind>().Where(k => k != MutationKind.CmpOperand)];

    /// <summary>With comparison feedback, one pick in six copies a comparison operand (3 of 18).</summary>
    private readonly MutationKind[] Kinds = inputToState is null
        ? BaseKinds
        : [.. BaseKinds, .. Enumerable.Repeat(MutationKind.CmpOperand, BaseKinds.Length / 4)];
    private byte _version;
    private readonly byte[] _scratch = new byte[RecordSize];
    private readonly List<MutationKind> _applied = [];

    /// <summary>The mutations of the last <see cref="Mutate"/> call, in order ("MS:" of the status line).</summary>
    public IReadOnlyList<MutationKind> Applied => _applied;

    /// <summary>Applies a stack of 1-5 mutations to buffer[0..size); returns the new size (≤ maxLen,
    /// which must not exceed the buffer). <paramref name="other"/> is a second corpus unit for crossover.
    /// A format-version prefix (<see cref="FuzzFormat"/>) is kept as it is: the mutations work on
    /// the body after it, so record boundaries stay where the decoder looks for them.</summary>
    public int Mutate(byte[] buffer, int size, int maxLen, ReadOnlySpan<byte> other)
    {
        int prefix = FuzzFormat.PrefixLength(buffer.AsSpan(0, size));
        if (maxLen <= prefix) prefix = 0;
        _version = FuzzFormat.VersionOf(buffer.AsSpan(0, size));
        return prefix + MutateBody(buffer.AsSpan(prefix), size - prefix, maxLen - prefix, FuzzFormat.Body(other));
    }

    private int MutateBody(Span<byte> buffer, int size, int maxLen, ReadOnlySpan<byte> other)
    {
        _applied.Clear();
        int depth = 1 + random.Next(5);
        for (int attempt = 0; _applied.Count < depth && attempt < depth * 8; attempt++)
        {
            var kind = Kinds[random.Next(Kinds.Length)];
            int newSize = Apply(kind, buffer, size, maxLen, other);
            if (newSize < 0) continue; // not applicable to this input
            size = newSize;
            _applied.Add(kind);
        }
        // Nothing applied by chance (a tiny input at its max_len rules most out): the first that applies.
        for (int i = 0; _applied.Count == 0 && i < Kinds.Length; i++)
        {
            int newSize = Apply(Kinds[i], buffer, size, maxLen, other);
            if (newSize < 0) continue;
            size = newSize;
            _applied.Add(Kinds[i]);
        }
        return size;
    }

    /// <summary>Applies one mutation to a body (no version prefix); -1 when it does not apply to this input.</summary>
    public int Apply(MutationKind kind, byte[] buffer, int size, int maxLen, ReadOnlySpan<byte> other) => Apply(kind, buffer.AsSpan(), size, maxLen, other);

    private int Apply(MutationKind kind, Span<byte> buffer, int size, int maxLen, ReadOnlySpan<byte> other) => kind switch
    {
        MutationKind.EraseBytes => EraseBytes(buffer, size),
        MutationKind.InsertByte => Insert(buffer, size, maxLen, 1, repeated: false),
        MutationKind.InsertRepeatedBytes => Insert(buffer, size, maxLen, 3 + random.Next(Math.Max(1, Math.Min(29, maxLen - size))), repeated: true),
        MutationKind.ChangeByte => size == 0 ? -1 : Set(buffer, random.Next(size), (byte)random.Next(256), size),
        MutationKind.ChangeBit => size == 0 ? -1 : Set(buffer, random.Next(size) is var i ? i : 0, (byte)(buffer[i] ^ (1 << random.Next(8))), size),
        MutationKind.ChangeBinInt => ChangeBinInt(buffer, size),
        MutationKind.CopyPart => CopyPart(buffer, size),
        MutationKind.CrossOver => CrossOver(buffer, size, maxLen, other),
        MutationKind.ManualDict => DictionaryAt(buffer, size, random.Next(Math.Max(1, size))),
        MutationKind.OpInsert => OpInsert(buffer, size, maxLen),
        MutationKind.OpDelete => OpDelete(buffer, size),
        MutationKind.OpDuplicate => OpDuplicate(buffer, size, maxLen),
        MutationKind.OpSwap => OpSwap(buffer, size),
        MutationKind.OpTweakField => OpTweakField(buffer, size),
        MutationKind.OpDictValue => RecordCount(size) == 0 ? -1 : DictionaryAt(buffer, size, RecordOffset(random.Next(RecordCount(size))) + FieldValue),
        MutationKind.CmpOperand => inputToState?.Apply(buffer, size, _version, random) ?? -1,
        _ => -1,
    };

    private static int Set(Span<byte> buffer, int index, byte value, int size)
    {
        buffer[index] = value;
        return size;
    }

    private int EraseBytes(Span<byte> buffer, int size)
    {
        if (size <= 1) return -1;
        int count = 1 + random.Next(Math.Min(size - 1, 16));
        int start = random.Next(size - count + 1);
        buffer.Slice(start + count, size - start - count).CopyTo(buffer[start..]);
        return size - count;
    }

    private int Insert(Span<byte> buffer, int size, int maxLen, int count, bool repeated)
    {
        count = Math.Min(count, maxLen - size);
        if (count <= 0) return -1;
        int at = random.Next(size + 1);
        buffer.Slice(at, size - at).CopyTo(buffer[(at + count)..]);
        byte b = (byte)random.Next(256);
        for (int i = 0; i < count; i++) buffer[at + i] = repeated ? b : (byte)random.Next(256);
        return size + count;
    }

    /// <summary>Adds or subtracts a small number to a 1, 2, 4 or 8-byte little-endian integer.</summary>
    private int ChangeBinInt(Span<byte> buffer, int size)
    {
        int width = 1 << random.Next(4);
        if (size < width) return -1;
        int at = random.Next(size - width + 1);
        ulong value = 0;
        for (int i = width - 1; i >= 0; i--) value = (value << 8) | buffer[at + i];
        long delta = random.Next(-35, 36);
        if (delta == 0) delta = 1;
        value = unchecked(value + (ulong)delta);
        for (int i = 0; i < width; i++, value >>= 8) buffer[at + i] = (byte)value;
        return size;
    }

    private int CopyPart(Span<byte> buffer, int size)
    {
        if (size < 2) return -1;
        int count = 1 + random.Next(Math.Min(size - 1, RecordSize * 2));
        int from = random.Next(size - count + 1), to = random.Next(size - count + 1);
        buffer.Slice(from, count).CopyTo(buffer[to..]);
        return size;
    }

    /// <summary>Keeps a prefix of this input (cut at a record boundary) and appends the other's records.</summary>
    private int CrossOver(Span<byte> buffer, int size, int maxLen, ReadOnlySpan<byte> other)
    {
        if (other.Length <= HeaderSize) return -1;
        int keep = RecordOffset(random.Next(RecordCount(size) + 1));
        keep = Math.Min(keep, size);
        int fromRecord = random.Next(RecordCount(other.Length));
        var tail = other[Math.Min(other.Length, RecordOffset(fromRecord))..];
        int count = Math.Min(tail.Length, maxLen - keep);
        if (count <= 0) return -1;
        tail[..count].CopyTo(buffer[keep..]);
        return keep + count;
    }

    private int DictionaryAt(Span<byte> buffer, int size, int at)
    {
        if (dictionary.Count == 0 || at >= size) return -1;
        var entry = dictionary[random.Next(dictionary.Count)];
        int width = random.Next(2) == 0 ? 8 : 4; // the whole value, or its low half (an anchor offset)
        int count = Math.Min(width, size - at);
        entry[..count].CopyTo(buffer[at..]);
        return size;
    }

    /// <summary>A new random record (kind, fields) at a record boundary; the input is first
    /// padded to a whole number of records.</summary>
    private int OpInsert(Span<byte> buffer, int size, int maxLen)
    {
        int padded = Pad(buffer, size);
        if (padded + RecordSize > maxLen) return -1;
        int at = RecordOffset(random.Next(RecordCount(padded) + 1));
        buffer.Slice(at, padded - at).CopyTo(buffer[(at + RecordSize)..]);
        random.NextBytes(buffer.Slice(at, RecordSize));
        // Small lengths and anchor offsets are the useful ones: keep the offset's top bytes low.
        if (random.Next(2) == 0) buffer.Slice(at + FieldValue + 2, 6).Clear();
        return padded + RecordSize;
    }

    private int OpDelete(Span<byte> buffer, int size)
    {
        int records = RecordCount(size);
        if (records == 0) return -1;
        int at = RecordOffset(random.Next(records));
        int end = Math.Min(size, at + RecordSize);
        buffer.Slice(end, size - end).CopyTo(buffer[at..]);
        return size - (end - at);
    }

    private int OpDuplicate(Span<byte> buffer, int size, int maxLen)
    {
        int padded = Pad(buffer, size);
        int records = RecordCount(padded);
        if (records == 0 || padded + RecordSize > maxLen) return -1;
        int from = RecordOffset(random.Next(records));
        int to = RecordOffset(random.Next(records + 1));
        buffer.Slice(from, RecordSize).CopyTo(_scratch);
        buffer.Slice(to, padded - to).CopyTo(buffer[(to + RecordSize)..]);
        _scratch.CopyTo(buffer[to..]);
        return padded + RecordSize;
    }

    private int OpSwap(Span<byte> buffer, int size)
    {
        int records = size / RecordSize == 0 ? 0 : (size - HeaderSize) / RecordSize; // whole records only
        if (records < 2) return -1;
        int a = RecordOffset(random.Next(records)), b = RecordOffset(random.Next(records));
        if (a == b) return -1;
        buffer.Slice(a, RecordSize).CopyTo(_scratch);
        buffer.Slice(b, RecordSize).CopyTo(buffer[a..]);
        _scratch.CopyTo(buffer[b..]);
        return size;
    }

    /// <summary>One field of one record (or of the header) gets a new value: a random byte, a
    /// neighbour of the old one, or for the value field a small signed offset.</summary>
    private int OpTweakField(Span<byte> buffer, int size)
    {
        int records = RecordCount(size);
        if (records == 0 && size == 0) return -1;
        int at;
        if (records == 0 || random.Next(8) == 0)
            at = random.Next(Math.Min(size, HeaderSize));
        else
        {
            int record = RecordOffset(random.Next(records));
            int field = random.Next(FuzzEncoding.ByteFields.Length + 1);
            if (field == FuzzEncoding.ByteFields.Length)
            {
                int valueAt = record + FieldValue;
                if (valueAt >= size) return -1;
                int count = Math.Min(8, size - valueAt);
                long offset = (long)random.Next(-16, 17) * 0x1000;
                var value = BitConverter.GetBytes(offset);
                value.AsSpan(0, count).CopyTo(buffer[valueAt..]);
                return size;
            }
            at = record + FuzzEncoding.ByteFields[field];
            if (at >= size) return -1;
        }
        buffer[at] = random.Next(2) == 0 ? (byte)random.Next(256) : (byte)(buffer[at] + (random.Next(2) == 0 ? 1 : -1));
        return size;
    }

    /// <summary>Pads the input with zeros to the header plus whole records.</summary>
    private static int Pad(Span<byte> buffer, int size)
    {
        int padded = size <= HeaderSize ? HeaderSize : RecordOffset(RecordCount(size));
        if (padded > buffer.Length) return size;
        buffer.Slice(size, padded - size).Clear();
        return padded;
    }
}
