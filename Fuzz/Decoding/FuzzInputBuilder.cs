using System.Buffers.Binary;
using static DmaVerify.Fuzz.Decoding.FuzzEncoding;

namespace DmaVerify.Fuzz.Decoding;

/// <summary>One op record's fields, as written by <see cref="FuzzInputBuilder"/>. See
/// docs/fuzzing.md for what each field means per op kind.</summary>
public readonly record struct OpRecord(OpKind Kind, byte Target = 0, byte Flags = 0, byte Size = 0, byte Anchor = 0, byte Index = 0, byte Count = 0, byte Extra = 0, ulong Value = 0);

/// <summary>Writes fuzz inputs field by field (seed corpora, tests): the inverse of the layout
/// <see cref="OpDecoder"/> reads, in the current format version (<see cref="FuzzFormat"/>) unless
/// told otherwise.</summary>
public sealed class FuzzInputBuilder
{
    private readonly List<byte> _bytes;
    private readonly FuzzFormat.Tables _tables;

    public FuzzInputBuilder(byte preset = 0, byte overrideSelector = 0, byte maskBits = 0, byte overrideFlags = 0, byte version = FuzzFormat.Current)
    {
        _tables = FuzzFormat.For(version);
        _bytes = [.. FuzzFormat.Prefix(version), preset, overrideSelector, maskBits, overrideFlags];
    }

    public FuzzInputBuilder Add(OpRecord r)
    {
        Span<byte> record = stackalloc byte[RecordSize];
        record[FieldKind] = _tables.KindByte(r.Kind);
        record[FieldTarget] = r.Target;
        record[FieldFlags] = r.Flags;
        record[FieldSize] = r.Size;
        record[FieldAnchor] = r.Anchor;
        record[FieldIndex] = r.Index;
        record[FieldCount] = r.Count;
        record[FieldExtra] = r.Extra;
        BinaryPrimitives.WriteUInt64LittleEndian(record[FieldValue..], r.Value);
        foreach (byte b in record) _bytes.Add(b);
        return this;
    }

    public byte[] ToArray() => [.. _bytes];

    /// <summary>The anchor selector naming <paramref name="address"/> (the nearest anchor at or below it).</summary>
    public static byte AnchorOf(AddressAnchors anchors, ulong address)
    {
        int best = 0;
        for (int i = 0; i < anchors.Count && i < 256; i++)
            if (anchors.All[i] <= address) best = i;
        return (byte)best;
    }

    /// <summary>The smallest size byte that decodes to <paramref name="length"/> (extra byte 0).</summary>
    public static byte SizeOf(ulong length)
    {
        for (int size = 1; size < 256; size++)
            if ((size & 15) is not (0 or 15) && OpDecoder.LengthOf((byte)size, 0, 0) == length) return (byte)size;
        throw new ArgumentException($"length 0x{length:X} has no size byte", nameof(length));
    }
}
