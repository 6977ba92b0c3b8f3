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

    /// <summary>Version 2 on: a record whose kind byte and flags byte both have this bit set is
    /// aimed (<see cref="IsAimed"/>): its size, address or handle is taken from the boundaries
    /// of the state the earlier ops left (<see cref="Boundaries"/>), which the decoder learns by
    /// running them on the reference model. A quarter of random records are aimed.</summary>
    public const byte AimBit = 1 << 7;

    /// <summary>Whether a record is aimed in a version whose tables aim.</summary>
    public static bool IsAimed(FuzzFormat.Tables tables, byte kind, byte flags) => tables.Aims && (kind & flags & AimBit) != 0;

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
        // Aimed records read the state the ops before them leave: the model runs them as they
        // are decoded (its default choices; the same bytes always decode to the same ops), up
        // to the last aimed record and no further.
        int lastAimed = -1;
        if (tables.Aims)
            for (int i = records - 1; i >= 0 && lastAimed < 0; i--)
                if (IsAimed(tables, ByteAt(data, RecordOffset(i) + FieldKind), ByteAt(data, RecordOffset(i) + FieldFlags))) lastAimed = i;
        var aim = lastAimed >= 0 ? AimState.Start(name, overrides, platform) : null;
        for (int i = 0; i < records; i++)
        {
            int offset = RecordOffset(i);
            var op = DecodeOp(new Record(data, offset), tables, platform, anchors, memory, i <= lastAimed ? aim : null);
            ops.Add(op);
            if (aim is null || i >= lastAimed) continue;
            try
            {
                aim.Model.Apply(op);
            }
            catch (Exception)
            {
                // Decoding is total: a model that throws (a DmaVerify bug the run itself will
                // report) only ends the aiming; the rest decodes plain.
                aim = null;
            }
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

    private static Op DecodeOp(Record r, FuzzFormat.Tables tables, PlatformConfig platform, AddressAnchors anchors, DecoderMemory memory, AimState? aim)
    {
        var op = DecodePlain(r, tables, platform, anchors, memory);
        return aim is not null && IsAimed(tables, r.Byte(FieldKind), r.Byte(FieldFlags)) ? Aimed(op, r, aim) : op;
    }

    /// <summary>An aimed record's op: the plain decoding with its size, address or handle
    /// moved onto a boundary of the current state (an op with nothing to aim at stays plain).
    /// Maps: a length that fills, or misses by one granule, the gap the allocator fills next
    /// (index byte picks; count bit 0 aligns the buffer for superpages), or a buffer on a limit
    /// or window edge of the untranslated path (the only choice for an untranslated device; count
    /// bit 1 for a GART or TCE device, which has both); iommu-map: an IOVA against a reserved range, a leaf run or
    /// the aperture end; device access: a mapping's end; unmaps: the newest mappings first
    /// (index counts from the newest), with the mapping's own size, direction and nents.</summary>
    private static Op Aimed(Op op, Record r, AimState aim)
    {
        var state = aim.Model.View;
        byte index = r.Byte(FieldIndex), count = r.Byte(FieldCount);
        switch (op)
        {
            case Map m when AimedBuffer(state, m.Device, m.Phys.Value, m.Length, coherent: false, index, count, aim) is var (phys, length):
                return m with { Phys = new PhysAddr(phys), Length = length };
            case AllocCoherent c when AimedBuffer(state, c.Device, c.Phys.Value & ~0xFFFUL, c.Size, coherent: true, index, count, aim) is var (phys, size) && phys % 0x1000 == 0:
                return c with { Phys = new PhysAddr(phys), Size = size };
            case IommuMap im when state.Domain(im.Domain) is { } domain:
            {
                var iovas = aim.Buffers;
                iovas.Clear();
                Boundaries.IommuMapIovas(domain, im.Size, index, iovas);
                return iovas.Count == 0 ? op : im with { Iova = new Iova(iovas[count % iovas.Count].Value), Phys = new PhysAddr(im.Phys.Value & ~(domain.Granule - 1)) };
            }
            case DeviceAccess { Address: LiveRef live } access when state.LiveMapping(access.Device, live.Index) is { } mapping:
            {
                var ends = aim.Ends;
                ends.Clear();
                Boundaries.MappingEnds(mapping.Size, GranuleOf(state, mapping), ends);
                var (offset, length) = ends[count % ends.Count];
                return access with { Address = new LiveRef(live.Index, offset), Length = length };
            }
            case Unmap u when Newest(state, u.Device, u.Handle) is var (handle, m):
                return u with { Handle = handle, Length = m.Size, Direction = m.Direction };
            case UnmapSg u when Newest(state, u.Device, u.Handle) is var (handle, m):
                return u with { Handle = handle, Nents = m.Nents, Direction = m.Direction };
            case FreeCoherent u when Newest(state, u.Device, u.Handle) is var (handle, m):
                return u with { Handle = handle, Size = m.Size };
            case UnmapResource u when Newest(state, u.Device, u.Handle) is var (handle, m):
                return u with { Handle = handle, Length = m.Size, Direction = m.Direction };
            default:
                return op;
        }
    }

    /// <summary>A buffer aimed at the device's next map: (phys, length) of a translated map that
    /// fills or just misses the allocator's next gap, or of an untranslated one on a limit;
    /// null when there is nothing to aim at.</summary>
    private static (ulong Phys, ulong Length)? AimedBuffer(ModelState state, int device, ulong phys, ulong length, bool coherent, byte index, byte count, AimState aim)
    {
        var lengths = aim.Lengths;
        lengths.Clear();
        Boundaries.MapLengths(state, device, coherent, lengths);
        var starts = aim.Buffers;
        starts.Clear();
        Boundaries.BypassBuffers(state, device, length, coherent, starts);
        // Count bit 1 picks the untranslated path's boundaries when the device has both (GART, TCE).
        if (lengths.Count > 0 && ((count & 2) == 0 || starts.Count == 0))
        {
            ulong aimed = lengths[index % lengths.Count].Value;
            ulong granule = state.Device(device) is { } d && state.DomainOf(d) is { } domain ? domain.Granule : 0x1000;
            ulong alignment = (count & 1) != 0 && aimed >= 0x20_0000 ? Math.Min(1UL << (63 - System.Numerics.BitOperations.LeadingZeroCount(aimed)), 1UL << 30) : granule;
            return (phys & ~(alignment - 1), aimed);
        }
        return starts.Count == 0 ? null : (starts[index % starts.Count].Value, length);
    }

    /// <summary>For an unmap: the handle counted from the device's newest live mapping (LIFO)
    /// and that mapping; null when the device has none.</summary>
    private static (AddressRef Handle, DmaMapping Mapping)? Newest(ModelState state, int device, AddressRef handle)
    {
        int live = state.MappingCountOf(device);
        if (live == 0 || handle is not LiveRef l) return null;
        int index = Math.Max(0, live - 1 - l.Index);
        return state.LiveMapping(device, index) is { } m ? (new LiveRef(index, l.Offset), m) : null;
    }

    private static ulong GranuleOf(ModelState state, DmaMapping mapping)
    {
        foreach (var part in mapping.Parts)
            if (part.Domain is int id && state.Domain(id) is { } domain) return domain.Granule;
        return 0x1000;
    }

    private static Op DecodePlain(Record r, FuzzFormat.Tables tables, PlatformConfig platform, AddressAnchors anchors, DecoderMemory memory)
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

    /// <summary>
    /// The reference model an aimed decoding runs the earlier ops on, and the lists it aims with.
    /// One model per thread and (preset, device override), restored to its starting state for
    /// each input: building a platform's initial state (x86-vtd's RMRR identity map) costs far
    /// more than restoring it. Bounded like the target's prepared systems.
    /// </summary>
    private sealed class AimState
    {
        private const int Capacity = 32;
        [ThreadStatic] private static Dictionary<(string, DeviceConfig?), AimState>? t_cache;

        private AimState(ModelSystem model)
        {
            Model = model;
            _start = model.Snapshot();
        }

        private readonly ModelSnapshot _start;
        public ModelSystem Model { get; }
        public List<Aimed> Lengths { get; } = [];
        public List<Aimed> Buffers { get; } = [];
        public List<(ulong Offset, ulong Length)> Ends { get; } = [];

        public static AimState Start(string preset, ValueList<DeviceConfig> overrides, PlatformConfig platform)
        {
            var cache = t_cache ??= [];
            var key = (preset, overrides.Count == 0 ? null : overrides[0]);
            if (!cache.TryGetValue(key, out var state))
            {
                if (cache.Count >= Capacity) cache.Clear();
                cache[key] = state = new AimState(new ModelSystem(platform));
            }
            state.Model.Restore(state._start);
            return state;
        }
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
