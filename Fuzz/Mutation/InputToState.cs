using System.Buffers.Binary;
using DmaVerify.Fuzz.Decoding;
using DmaVerify.FuzzRuntime;
using static DmaVerify.Fuzz.Decoding.FuzzEncoding;

namespace DmaVerify.Fuzz.Mutation;

/// <summary>Where the mutator reads recent comparison operands from (the code under test's
/// hooks fill <see cref="CmpTrace"/>; tests give their own).</summary>
public interface IOperandTable
{
    bool TryGetPair(int pick, out ulong a, out ulong b);
}

/// <summary>The operand pairs the instrumented comparisons recorded.</summary>
public sealed class RecentComparisons : IOperandTable
{
    public static readonly RecentComparisons Instance = new();
    public bool TryGetPair(int pick, out ulong a, out ulong b) => CmpTrace.TryGetPair(pick, out a, out b);
}

/// <summary>
/// The input-to-state mutation (AFL++'s CmpLog / Redqueen idea, for this input layout): take a
/// recent comparison (a, b) of the code under test; find a field of an op record that decodes to
/// one operand — a raw 64-bit value, the low half of one, an anchor plus offset, an iommu-map
/// IOVA, a length from the size table, a DMA mask width — and rewrite it so it decodes to the
/// other operand (or one either side of it, for &lt; and &gt;). The decoder's encodings are
/// inverted here, which is what lets a comparison deep in the allocator (a limit, a window end,
/// a size class) be met exactly in one step. With no field matching, the other operand is
/// written into a record as an address near its anchor.
/// </summary>
public sealed class InputToState(IOperandTable table, string? preset)
{
    private const int FlagRawAddress = 1 << 4;

    /// <summary>Applies one rewrite to <paramref name="body"/>[0..size) (no version prefix) of
    /// an input of <paramref name="version"/>; -1 when nothing could be done.</summary>
    public int Apply(Span<byte> body, int size, byte version, Random random)
    {
        int records = RecordCount(size);
        if (records == 0 || !table.TryGetPair(random.Next(), out ulong a, out ulong b)) return -1;
        if (random.Next(2) == 0) (a, b) = (b, a);
        ulong target = random.Next(5) switch { 0 => b + 1, 1 => b - 1, _ => b };
        var anchors = PresetCatalog.Get(preset ?? FuzzFormat.For(version).PresetOf(ByteAt(body, HeaderPreset))).Anchors;
        int first = random.Next(records);
        for (int k = 0; k < records; k++)
        {
            int at = RecordOffset((first + k) % records);
            if (at + RecordSize > size) continue; // only whole records are rewritten
            if (Rewrite(body.Slice(at, RecordSize), a, target, anchors)) return size;
        }
        // Nothing decodes to the operand: write the other one as an address near its anchor.
        int record = RecordOffset(random.Next(records));
        if (record + RecordSize > size) return -1;
        return WriteAddress(body.Slice(record, RecordSize), target, anchors, random) ? size : -1;
    }

    /// <summary>Rewrites the first field of <paramref name="r"/> that decodes to
    /// <paramref name="from"/> so it decodes to <paramref name="to"/>.</summary>
    private static bool Rewrite(Span<byte> r, ulong from, ulong to, AddressAnchors anchors)
    {
        var value = r[FieldValue..];
        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(value);
        if (v == from)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(value, to);
            return true;
        }
        ulong anchor = anchors[r[FieldAnchor]];
        if (anchor + (ulong)(long)(int)(uint)v == from && FitsOffset(to, anchor, out int offset))
        {
            BinaryPrimitives.WriteInt32LittleEndian(value, offset);
            return true;
        }
        if ((uint)v == (uint)from && (from >> 32) == 0 && (to >> 32) == 0)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(value, (uint)to);
            return true;
        }
        if ((v >> 32) << 12 == from && to % 0x1000 == 0 && (to >> 12) <= uint.MaxValue)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(value[4..], (uint)(to >> 12));
            return true;
        }
        if (OpDecoder.LengthOf(r[FieldSize], r[FieldExtra], ulong.MaxValue) == from && SizeBytesFor(to) is var (size, extra))
        {
            r[FieldSize] = size;
            r[FieldExtra] = extra;
            return true;
        }
        if (MaskWidth(from) is int fromBits && MaskWidth(to) is int toBits)
        {
            if (24 + r[FieldSize] % 41 == fromBits) { r[FieldSize] = (byte)(toBits - 24); return true; }
            if (24 + r[FieldIndex] % 41 == fromBits) { r[FieldIndex] = (byte)(toBits - 24); return true; }
        }
        return false;
    }

    /// <summary>Writes <paramref name="address"/> into the record as anchor + offset (the nearest
    /// anchor at or below it), or raw when no anchor is within reach.</summary>
    private static bool WriteAddress(Span<byte> r, ulong address, AddressAnchors anchors, Random random)
    {
        int best = -1;
        for (int i = 0; i < anchors.Count && i < 256; i++)
            if (anchors.All[i] <= address && FitsOffset(address, anchors.All[i], out _)) best = i;
        if (best < 0 || random.Next(4) == 0)
        {
            r[FieldFlags] |= FlagRawAddress;
            BinaryPrimitives.WriteUInt64LittleEndian(r[FieldValue..], address);
            return true;
        }
        r[FieldFlags] = (byte)(r[FieldFlags] & ~FlagRawAddress);
        r[FieldAnchor] = (byte)best;
        FitsOffset(address, anchors.All[best], out int offset);
        BinaryPrimitives.WriteInt32LittleEndian(r[FieldValue..], offset);
        return true;
    }

    private static bool FitsOffset(ulong address, ulong anchor, out int offset)
    {
        long delta = unchecked((long)(address - anchor));
        offset = (int)delta;
        return delta is >= int.MinValue and <= int.MaxValue;
    }

    /// <summary>The size and extra bytes that decode to <paramref name="length"/>, or null.</summary>
    private static (byte Size, byte Extra)? SizeBytesFor(ulong length)
    {
        for (int size = 1; size < 256; size++)
        {
            if ((size & 15) == 15)
            {
                ulong high = (ulong)(size >> 4) * 0x100;
                if (length > high && length - high - 1 <= 0xFF) return ((byte)size, (byte)(length - high - 1));
                continue;
            }
            if ((size & 15) != 0 && OpDecoder.LengthOf((byte)size, 0, 0) == length) return ((byte)size, 0);
        }
        return null;
    }

    /// <summary>n when <paramref name="mask"/> is DMA_BIT_MASK(n) with 24 ≤ n ≤ 64, else null.</summary>
    private static int? MaskWidth(ulong mask)
    {
        if (mask == ulong.MaxValue) return 64;
        if ((mask & (mask + 1)) != 0) return null;
        int bits = System.Numerics.BitOperations.PopCount(mask);
        return bits >= 24 ? bits : null;
    }
}
