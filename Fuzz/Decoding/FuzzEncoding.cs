using System.Buffers.Binary;

namespace DmaVerify.Fuzz.Decoding;

/// <summary>
/// The byte layout of a fuzz input's body (docs/fuzzing.md, "Input encoding"): a 4-byte header,
/// then fixed-size 16-byte op records. Offsets here count from the body, which starts after the
/// format-version prefix when there is one (<see cref="FuzzFormat"/>). Fixed-size records make op boundaries findable, so the
/// mutator can insert, delete, duplicate and swap whole ops and tweak one field of one op.
/// Missing bytes read as zero: every byte string decodes, a short one to a short op list.
/// </summary>
public static class FuzzEncoding
{
    public const int HeaderSize = 4;
    public const int RecordSize = 16;

    // Header bytes.
    /// <summary>Which preset the mixed target runs (an id in the version's preset table, modulo).</summary>
    public const int HeaderPreset = 0;
    /// <summary>Bit 0: override one device; bits 1-7: which one (modulo the device count).</summary>
    public const int HeaderOverride = 1;
    /// <summary>The override's DMA mask width: 24 + value mod 41 bits.</summary>
    public const int HeaderMaskBits = 2;
    /// <summary>The override's flags (see <see cref="OpDecoder"/>).</summary>
    public const int HeaderOverrideFlags = 3;

    // Op record fields (offsets inside a record).
    public const int FieldKind = 0, FieldTarget = 1, FieldFlags = 2, FieldSize = 3,
        FieldAnchor = 4, FieldIndex = 5, FieldCount = 6, FieldExtra = 7, FieldValue = 8;

    /// <summary>Byte offsets of the one-byte fields, and the 8-byte value; what "tweak one field" picks from.</summary>
    public static readonly int[] ByteFields = [FieldKind, FieldTarget, FieldFlags, FieldSize, FieldAnchor, FieldIndex, FieldCount, FieldExtra];

    public static int RecordCount(int length) => length <= HeaderSize ? 0 : (length - HeaderSize + RecordSize - 1) / RecordSize;

    public static int RecordOffset(int index) => HeaderSize + index * RecordSize;

    /// <summary>The byte at <paramref name="offset"/>, or 0 past the end.</summary>
    public static byte ByteAt(ReadOnlySpan<byte> data, int offset) => (uint)offset < (uint)data.Length ? data[offset] : (byte)0;

    /// <summary>The little-endian 64-bit value at <paramref name="offset"/>, zero-padded past the end.</summary>
    public static ulong UInt64At(ReadOnlySpan<byte> data, int offset)
    {
        if (offset >= 0 && offset + 8 <= data.Length) return BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(offset, 8));
        ulong value = 0;
        for (int i = 7; i >= 0; i--) value = (value << 8) | ByteAt(data, offset + i);
        return value;
    }
}
