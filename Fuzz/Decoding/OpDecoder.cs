using DmaVerify.Contracts;
using DmaVerify.Model;
using static DmaVerify.Fuzz.Decoding.FuzzEncoding;

namespace DmaVerify.Fuzz.Decoding;

/// <summary>
/// Bytes → (preset, device override, op list). Total: every byte string decodes (missing bytes
/// read as zero, out-of-range selectors wrap), so the fuzzer never wastes an execution on a
/// rejected input. The layout is in <see cref="FuzzEncoding"/>; what each field means for each op
/// kind is in docs/fuzzing.md. Pure: the same bytes always give the same scenario.
/// </summary>
public static class OpDecoder
{
    /// <summary>Op lists are capped so one input cannot run for long (the engine's -max_len
    /// usually keeps them far shorter).</summary>
    public const int MaxOps = 4096;

    /// <summary>Lengths by the low nibble of the size byte, times (high nibble + 1); 0 means
    /// "the length of this device's last mapping" (so unmaps can match their maps), 15 a small
    /// odd length. Huge lengths are rare on purpose: the model's per-page work makes a 1 GiB map
    /// take about half a second, so 2 MiB is not multiplied and 1 GiB needs high nibble 15.</summary>
    internal static readonly ulong[] Lengths =
        [0, 0x1, 0x40, 0x800, 0xFFF, 0x1000, 0x1001, 0x2000, 0x3000, 0x8000, 0x10000, 0x20_0000, 0x1_0000, 0x4_0000, 0x10, 0];

    /// <summary>The length a size byte (and the extra byte, for odd lengths) decodes to.</summary>
    public static ulong LengthOf(byte size, byte extra, ulong lastLength)
    {
        int low = size & 15, high = size >> 4;
        return low switch
        {
            0 => lastLength,
            11 => Lengths[11],
            12 when high == 15 => 0x4000_0000,
            15 => (ulong)high * 0x100 + extra + 1UL,
            _ => Lengths[low] * (ulong)(high + 1),
        };
    }

    private static readonly DomainType[] DomainTypes = [DomainType.Unmanaged, DomainType.Dma, DomainType.DmaFq, DomainType.Identity, DomainType.Blocked];
    private static readonly DmaDirection[] Directions = [DmaDirection.Bidirectional, DmaDirection.ToDevice, DmaDirection.FromDevice, DmaDirection.None];
    private static readonly ulong[] MaxSegmentSizes = [0x1000, 0x10000, 0x10_0000, 0x1_0000_0000];

    // Flag bits of an op record.
    private const int FlagRawHandle = 1 << 2, FlagWrite = 1 << 3, FlagRawAddress = 1 << 4, FlagHandleOffset = 1 << 5, FlagPrivileged = 1 << 6;

    /// <summary>Decodes with <paramref name="preset"/> fixed, or, when it is null, with the preset
    /// header byte 0 names: in <paramref name="mixedPresets"/> for a version-0 input (callers pass
    /// <see cref="Targets.FuzzTargets.MixedPresets"/>, the frozen version-0 table), in its own
    /// version's table for a marked one (<see cref="FuzzFormat"/>).</summary>
    public static DecodedScenario Decode(ReadOnlySpan<byte> input, string? preset, IReadOnlyList<string> mixedPresets)
    {
        byte version = FuzzFormat.VersionOf(input);
        var tables = FuzzFormat.For(version);
        var data = FuzzFormat.Body(input);
        string name = preset ?? (version == 0 ? mixedPresets[ByteAt(data, HeaderPreset) % mixedPresets.Count] : tables.PresetOf(ByteAt(data, HeaderPreset)));
        var (basePlatform, anchors) = PresetCatalog.Get(name);
        var overrides = DecodeOverride(data, basePlatform);
        var platform = overrides.Count == 0 ? basePlatform : WithOverride(basePlatform, overrides[0]);

        int records = Math.Min(RecordCount(data.Length), MaxOps);
        var ops = new List<Op>(records);
        var memory = new DecoderMemory();
        for (int i = 0; i < records; i++)
        {
            int offset = RecordOffset(i);
            ops.Add(DecodeOp(new Record(data, offset), tables, platform, anchors, memory));
        }
        return new DecodedScenario(name, overrides, platform, ops);
    }

    private static ValueList<DeviceConfig> DecodeOverride(ReadOnlySpan<byte> data, PlatformConfig platform)
    {
        byte selector = ByteAt(data, HeaderOverride);
        if ((selector & 1) == 0 || platform.Devices.Count == 0) return ValueList<DeviceConfig>.Empty;
        var device = platform.Devices[(selector >> 1) % platform.Devices.Count];
        byte flags = ByteAt(data, HeaderOverrideFlags);
        ulong mask = BitMask(24 + ByteAt(data, HeaderMaskBits) % 41);
        var changed = device with
        {
            DmaMask = mask,
            CoherentMask = (flags & 1) != 0 ? BitMask(32) : mask,
            IsPci = (flags & 2) != 0,
            Untrusted = (flags & 4) != 0 && !device.BypassesIommu,
            SegmentBoundaryMask = (flags & 8) != 0 ? 0xFFFF : device.SegmentBoundaryMask,
            MaxSegmentSize = MaxSegmentSizes[(flags >> 4) & 3],
            BusDmaLimit = (flags & 0x40) != 0 ? 0x3FFF_FFFF : device.BusDmaLimit,
        };
        // Never reject: an override the scenario rules refuse is dropped.
        return Scenario.WhyInvalid(changed, platform) is null ? ValueList.Of(changed) : ValueList<DeviceConfig>.Empty;
    }

    private static PlatformConfig WithOverride(PlatformConfig platform, DeviceConfig device) =>
        platform with { Devices = platform.Devices.Select(d => d.Id == device.Id ? device : d).ToArray() };

    private static Op DecodeOp(Record r, FuzzFormat.Tables tables, PlatformConfig platform, AddressAnchors anchors, DecoderMemory memory)
    {
        var kind = tables.OpKindOf(r.Byte(FieldKind));
        int device = DeviceId(r.Byte(FieldTarget), platform);
        byte flags = r.Byte(FieldFlags);
        var direction = Directions[flags & 3];
        ulong value = r.Value;
        ulong address = (flags & FlagRawAddress) != 0 ? value : anchors[r.Byte(FieldAnchor)] + (ulong)(long)(int)(uint)value;
        ulong length = Length(r, memory.LastLength(device));
        int domain = r.Byte(FieldTarget) & 7;
        switch (kind)
        {
            case OpKind.Map:
                memory.RememberLength(device, length);
                return new Map(device, new PhysAddr(address), length, direction, (flags & FlagPrivileged) != 0 ? DmaAttrs.Privileged : (flags & FlagWrite) != 0 ? DmaAttrs.SkipCpuSync : DmaAttrs.None);
            case OpKind.Unmap:
                return new Unmap(device, Handle(r, flags, value), length, direction);
            case OpKind.MapSg:
            {
                int count = 1 + (r.Byte(FieldCount) & 7);
                ulong gap = (ulong)r.Byte(FieldExtra) * 0x1000;
                var segments = new SgEntry[count];
                ulong phys = address;
                for (int i = 0; i < count; i++)
                {
                    segments[i] = new SgEntry(new PhysAddr(phys), length);
                    phys += length + gap;
                }
                memory.RememberNents(device, count);
                return new MapSg(device, new ValueList<SgEntry>(segments), direction);
            }
            case OpKind.UnmapSg:
            {
                int nents = r.Byte(FieldCount) is var c && c == 0 ? memory.LastNents(device) : c & 15;
                return new UnmapSg(device, Handle(r, flags, value), nents, direction);
            }
            case OpKind.AllocCoherent:
                memory.RememberLength(device, length);
                return new AllocCoherent(device, new PhysAddr((flags & FlagHandleOffset) != 0 ? address : address & ~0xFFFUL), length);
            case OpKind.FreeCoherent:
                return new FreeCoherent(device, Handle(r, flags, value), length);
            case OpKind.MapResource:
                memory.RememberLength(device, length);
                return new MapResource(device, new PhysAddr(address), length, direction);
            case OpKind.UnmapResource:
                return new UnmapResource(device, Handle(r, flags, value), length, direction);
            case OpKind.IommuMap:
            {
                ulong iova = (flags & FlagRawAddress) != 0 ? value : (value >> 32) << 12;
                ulong phys = (flags & FlagRawAddress) != 0 ? anchors[r.Byte(FieldAnchor)] : address & ~0xFFFUL;
                return new IommuMap(domain, new Iova(iova), new PhysAddr(phys), length, (Prot)(r.Byte(FieldExtra) & 0x3F));
            }
            case OpKind.IommuUnmap:
                return new IommuUnmap(domain, new Iova((flags & FlagRawAddress) != 0 ? value : (value >> 32) << 12), length);
            case OpKind.DeviceAccess:
                return new DeviceAccess(device, Handle(r, flags, value), Math.Min(length, 0x10_0000), (flags & FlagWrite) != 0);
            case OpKind.SetupMsi:
                return new SetupMsi(device, new PhysAddr(address));
            case OpKind.Flush:
                return new Flush(domain);
            case OpKind.Tick:
                return new Tick(r.Byte(FieldSize));
            case OpKind.AllocDomain:
                return new AllocDomain(platform.Iommus.Count == 0 ? 0 : r.Byte(FieldIndex) % (platform.Iommus.Count + 1), DomainTypes[r.Byte(FieldExtra) % DomainTypes.Length]);
            case OpKind.Attach:
                return new Attach(device, r.Byte(FieldIndex) & 7);
            case OpKind.SetDomainType:
                return new SetDomainType(device, DomainTypes[r.Byte(FieldExtra) % DomainTypes.Length]);
            case OpKind.SetMask:
                return new SetMask(device, BitMask(24 + r.Byte(FieldSize) % 41), BitMask(24 + r.Byte(FieldIndex) % 41));
            default:
                throw new InvalidOperationException($"op kind {kind} has no decoding"); // unreachable: the table holds only the kinds above
        }
    }

    /// <summary>Target byte mod 16: most values pick one of the platform's devices; 15 names a
    /// device that does not exist (the UnknownDevice path).</summary>
    private static int DeviceId(byte target, PlatformConfig platform)
    {
        var devices = platform.Devices;
        int t = target & 15;
        if (devices.Count == 0 || t == 15) return devices.Count == 0 ? 0 : devices.Max(d => d.Id) + 1;
        return devices[t % devices.Count].Id;
    }

    private static ulong Length(Record r, ulong lastLength) => LengthOf(r.Byte(FieldSize), r.Byte(FieldExtra), lastLength);

    private static AddressRef Handle(Record r, byte flags, ulong value)
    {
        if ((flags & FlagRawHandle) != 0) return new RawRef(value);
        ulong offset = (flags & FlagHandleOffset) != 0 ? value & 0xFFF : 0;
        return new LiveRef(r.Byte(FieldIndex) & 15, offset);
    }

    private static ulong BitMask(int bits) => bits >= 64 ? ulong.MaxValue : (1UL << bits) - 1;

    /// <summary>One op record over the input (zero past its end).</summary>
    private readonly ref struct Record(ReadOnlySpan<byte> data, int offset)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        public byte Byte(int field) => ByteAt(_data, offset + field);
        public ulong Value => UInt64At(_data, offset + FieldValue);
    }

    /// <summary>Per-device lengths and sg counts of earlier records, for "same as before" fields.</summary>
    private sealed class DecoderMemory
    {
        private readonly Dictionary<int, ulong> _lengths = [];
        private readonly Dictionary<int, int> _nents = [];
        public ulong LastLength(int device) => _lengths.TryGetValue(device, out var l) ? l : 0x1000;
        public void RememberLength(int device, ulong length) => _lengths[device] = length;
        public int LastNents(int device) => _nents.TryGetValue(device, out var n) ? n : 1;
        public void RememberNents(int device, int nents) => _nents[device] = nents;
    }
}
