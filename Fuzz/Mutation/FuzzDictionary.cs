using System.Buffers.Binary;
using DmaVerify.Contracts;
using DmaVerify.Fuzz.Decoding;
using DmaVerify.Fuzz.Targets;
using DmaVerify.Model;

namespace DmaVerify.Fuzz.Mutation;

/// <summary>
/// Interesting values the mutator writes into op records (AFL/libFuzzer "dictionary"): every
/// DMA_BIT_MASK(n), the presets' anchors (RAM, MMIO, swiotlb, MSI and SW-MSI bases, apertures,
/// TCE and DDW window edges, PCI host windows) and one byte either side of each, page and
/// superpage sizes, and the DMA_MAPPING_ERROR value. Each is an 8-byte little-endian word,
/// matching the value field of a record.
/// </summary>
public sealed class FuzzDictionary
{
    private readonly byte[][] _entries;

    public FuzzDictionary(IEnumerable<ulong> values)
    {
        _entries = values.Distinct().Order().Select(v =>
        {
            var bytes = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, v);
            return bytes;
        }).ToArray();
    }

    public int Count => _entries.Length;

    public ReadOnlySpan<byte> this[int index] => _entries[index];

    /// <summary>The dictionary of the presets a target can run.</summary>
    public static FuzzDictionary ForPresets(IEnumerable<string> presets)
    {
        var values = new List<ulong> { ulong.MaxValue, 0 };
        for (int bits = 24; bits <= 64; bits++) values.Add(bits == 64 ? ulong.MaxValue : (1UL << bits) - 1);
        foreach (ulong size in (ulong[])[0x1000, 0x4000, 0x1_0000, 0x20_0000, 0x4000_0000, 0x1_0000_0000, 0x800, 0xFFF, 0x1001])
        {
            values.Add(size);
            values.Add(unchecked((ulong)-(long)size)); // an offset just below an anchor
        }
        foreach (var preset in presets)
            foreach (ulong anchor in PresetCatalog.Get(preset).Anchors.All)
            {
                values.Add(anchor);
                values.Add(anchor - 1);
                values.Add(anchor + 0x1000);
            }
        return new FuzzDictionary(values);
    }

    public static FuzzDictionary ForTarget(string target) =>
        ForPresets(target == FuzzTargets.Mixed || !Presets.Names.Contains(target) ? FuzzTargets.CurrentPresets : [target]);
}
