namespace DmaVerify.Fuzz.Decoding;

/// <summary>
/// Which version of the input format a fuzz input is written in, and the tables each version
/// decodes with, frozen: the preset a header byte names and the op kind a kind byte names never
/// change within a version, so a corpus file decodes to the same scenario in every later
/// DmaVerify. Adding a preset or an op kind means adding a version (with its own tables), never
/// editing one.
///
/// An input that starts with the marker "DV" and a version byte is in that version; the body
/// after those three bytes is laid out as <see cref="FuzzEncoding"/> describes. Any other input
/// is version 0, the format before versions existed (body = the whole input), so every corpus
/// file written before keeps its meaning. A marked input of a version this build does not know
/// decodes with the newest tables it knows (every byte string still decodes);
/// <see cref="IsKnown"/> lets tools say so.
/// </summary>
public static class FuzzFormat
{
    public const byte Marker0 = (byte)'D', Marker1 = (byte)'V';

    /// <summary>Marker and version byte.</summary>
    public const int PrefixSize = 3;

    /// <summary>The version new inputs are written in (the builder, seed corpora, a campaign's
    /// first input).</summary>
    public const byte Current = 2;

    /// <summary>The mixed target's presets by header byte 0 (modulo the count), as they were when
    /// version 0 inputs were written; version 1 names the same presets by the same ids.</summary>
    private static readonly string[] PresetsV0 =
    [
        "x86-vtd", "amd-vi", "arm-smmu", "k8-gart", "power-tce", "direct", "virtio", "soc-vcm",
        "arm-smmu-16k", "arm-smmu-64k", "virtio@x86-vtd", "virtio@amd-vi", "virtio@arm-smmu", "virtio@k8-gart", "virtio@power-tce", "virtio@direct",
    ];

    /// <summary>Op kinds by the low five bits of a record's kind byte: the DMA-API hot path (map,
    /// unmap, device access) appears more often than the rare ops, so random bytes make useful
    /// sequences. The same in versions 0 and 1.</summary>
    private static readonly OpKind[] OpKindsV0 =
    [
        OpKind.Map, OpKind.Map, OpKind.Map, OpKind.Map, OpKind.Unmap, OpKind.Unmap, OpKind.Unmap, OpKind.MapSg,
        OpKind.MapSg, OpKind.UnmapSg, OpKind.UnmapSg, OpKind.AllocCoherent, OpKind.FreeCoherent, OpKind.MapResource, OpKind.UnmapResource, OpKind.DeviceAccess,
        OpKind.DeviceAccess, OpKind.DeviceAccess, OpKind.IommuMap, OpKind.IommuUnmap, OpKind.SetupMsi, OpKind.Flush, OpKind.Tick, OpKind.AllocDomain,
        OpKind.Attach, OpKind.SetDomainType, OpKind.SetMask, OpKind.Map, OpKind.DeviceAccess, OpKind.Unmap, OpKind.Flush, OpKind.Tick,
    ];

    /// <summary>One version's tables. <see cref="Aims"/>: records whose kind byte and flags
    /// byte both have bit 7 set are aimed (version 2 on; before, those bits meant nothing).</summary>
    public sealed record Tables(byte Version, IReadOnlyList<string> Presets, IReadOnlyList<OpKind> OpKinds)
    {
        public bool Aims { get; init; }

        public string PresetOf(byte selector) => Presets[selector % Presets.Count];

        public OpKind OpKindOf(byte kind) => OpKinds[kind & (OpKinds.Count - 1)];

        /// <summary>The smallest kind byte that decodes to <paramref name="kind"/> (what encoders write).</summary>
        public byte KindByte(OpKind kind) => (byte)OpKinds.ToList().IndexOf(kind);

        /// <summary>The header byte that names <paramref name="preset"/>.</summary>
        public byte PresetSelector(string preset) => (byte)Presets.ToList().IndexOf(preset);
    }

    private static readonly Tables[] Versions =
    [
        new(0, PresetsV0, OpKindsV0),
        new(1, PresetsV0, OpKindsV0),
        // Version 2: the same tables, and aimed records (OpDecoder).
        new(2, PresetsV0, OpKindsV0) { Aims = true },
    ];

    /// <summary>The version an input declares (0 when it has no marker).</summary>
    public static byte VersionOf(ReadOnlySpan<byte> data) => PrefixLength(data) == 0 ? (byte)0 : data[2];

    public static bool IsKnown(byte version) => version < Versions.Length;

    /// <summary>The tables to decode <paramref name="version"/> with (the newest for an unknown one).</summary>
    public static Tables For(byte version) => Versions[Math.Min(version, Versions.Length - 1)];

    /// <summary>The length of the marker-and-version prefix (0 for a version-0 input).</summary>
    public static int PrefixLength(ReadOnlySpan<byte> data) =>
        data.Length >= PrefixSize && data[0] == Marker0 && data[1] == Marker1 ? PrefixSize : 0;

    /// <summary>The input without its prefix: what <see cref="FuzzEncoding"/> offsets count from.</summary>
    public static ReadOnlySpan<byte> Body(ReadOnlySpan<byte> data) => data[PrefixLength(data)..];

    /// <summary>The prefix new inputs of <paramref name="version"/> start with.</summary>
    public static byte[] Prefix(byte version = Current) => version == 0 ? [] : [Marker0, Marker1, version];
}
