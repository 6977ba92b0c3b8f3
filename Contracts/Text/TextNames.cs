using ProtBits = DmaVerify.Contracts.Prot;

namespace DmaVerify.Contracts;

/// <summary>
/// The words of the scenario text form (see <see cref="ScenarioPrinter"/> for the grammar):
/// verbs, keys and the spelling of every enum value. One table per concept, used by both the
/// printer and the parser so the two cannot drift apart.
/// </summary>
public static class TextNames
{
    // Header words.
    public const string PresetWord = "preset", DeviceWord = "device";

    /// <summary>Marker that turns an op line's trailing comment into its expected outcome.</summary>
    public const string ResultMarker = "->";

    /// <summary>Spelling of an empty list (sg segments, access chunks, bounce slots).</summary>
    public const string EmptyList = "none";

    // Op verbs, in the order of Model/Ops/Op.cs.
    public const string AllocDomain = "alloc-domain", Attach = "attach", SetDomainType = "set-domain-type",
        SetMask = "set-mask", Map = "map", Unmap = "unmap", MapSg = "map-sg", UnmapSg = "unmap-sg",
        AllocCoherent = "alloc-coherent", FreeCoherent = "free-coherent", MapResource = "map-resource",
        UnmapResource = "unmap-resource", IommuMap = "iommu-map", IommuUnmap = "iommu-unmap",
        DeviceAccess = "device-access", SetupMsi = "setup-msi", Flush = "flush", Tick = "tick";

    public static readonly IReadOnlyList<string> Verbs =
    [
        AllocDomain, Attach, SetDomainType, SetMask, Map, Unmap, MapSg, UnmapSg, AllocCoherent, FreeCoherent,
        MapResource, UnmapResource, IommuMap, IommuUnmap, DeviceAccess, SetupMsi, Flush, Tick,
    ];

    // Outcome words.
    public const string Ok = "ok", Mapped = "mapped", SgMapped = "sg-mapped", DomainAllocated = "domain",
        Unmapped = "unmapped", Accessed = "accessed", Failed = "failed";

    public static readonly IReadOnlyList<string> OutcomeWords = [Ok, Mapped, SgMapped, DomainAllocated, Unmapped, Accessed, Failed];

    // Keys.
    public const string Dev = "dev", Domain = "domain", Iommu = "iommu", Type = "type", Phys = "phys", Len = "len",
        Size = "size", Dir = "dir", Attrs = "attrs", Handle = "handle", Segs = "segs", Nents = "nents", Iova = "iova",
        Prot = "prot", Addr = "addr", Doorbell = "doorbell", Ms = "ms", Mask = "mask", Coherent = "coherent",
        Bounce = "bounce", Bounces = "bounces";

    // Flags (bare words) of device-access.
    public const string Write = "write", Read = "read";

    // Device line keys and flags.
    public const string Name = "name", BusLimit = "bus-limit", MaxSeg = "max-seg", Boundary = "boundary",
        Pci = "pci", Untrusted = "untrusted", Virtio = "virtio", NoIommu = "none",
        VirtioPlatform = "platform", VirtioBypass = "bypass", VirtioNone = "none";

    public static readonly EnumNames<DmaDirection> Directions = new(
        (DmaDirection.ToDevice, "to_device"),
        (DmaDirection.FromDevice, "from_device"),
        (DmaDirection.Bidirectional, "bidirectional"),
        (DmaDirection.None, "none"));

    public static readonly EnumNames<DomainType> DomainTypes = new(
        (DomainType.Blocked, "blocked"),
        (DomainType.Identity, "identity"),
        (DomainType.Dma, "dma"),
        (DomainType.DmaFq, "dma-fq"),
        (DomainType.Unmanaged, "unmanaged"));

    /// <summary>DMA attribute flags, joined with '|'; no flag at all is <c>none</c>.</summary>
    public static readonly EnumNames<DmaAttrs> AttrFlags = new(
        (DmaAttrs.SkipCpuSync, "skip-cpu-sync"),
        (DmaAttrs.Privileged, "privileged"));

    /// <summary>Protection flags, joined with '|'. Read and write are spelled <c>r</c>, <c>w</c>
    /// or <c>rw</c> (always printed first); no flag at all is <c>none</c>.</summary>
    public static readonly EnumNames<ProtBits> ProtFlags = new(
        (ProtBits.Read | ProtBits.Write, "rw"),
        (ProtBits.Read, "r"),
        (ProtBits.Write, "w"),
        (ProtBits.Cache, "cache"),
        (ProtBits.NoExec, "noexec"),
        (ProtBits.Mmio, "mmio"),
        (ProtBits.Priv, "priv"));

    /// <summary>Error kinds in kebab case: OutOfIova is <c>out-of-iova</c>.</summary>
    public static readonly EnumNames<DmaErrorKind> ErrorKinds =
        new(Enum.GetValues<DmaErrorKind>().Select(k => (k, Kebab(k.ToString()))).ToArray());

    /// <summary>PascalCase to kebab-case: "InvalidDmaAddress" → "invalid-dma-address".</summary>
    internal static string Kebab(string pascal)
    {
        var sb = new System.Text.StringBuilder(pascal.Length + 8);
        for (int i = 0; i < pascal.Length; i++)
        {
            char c = pascal[i];
            if (char.IsUpper(c))
            {
                if (i > 0) sb.Append('-');
                sb.Append(char.ToLowerInvariant(c));
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>Formats a flags value as names joined by '|' ("none" for zero). Returns null
    /// when the value has bits no name covers.</summary>
    internal static string? FormatFlags<T>(EnumNames<T> names, T value) where T : struct, Enum
    {
        ulong bits = (ulong)Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
        if (bits == 0) return EmptyList;
        var parts = new List<string>();
        foreach (var (flag, name) in names.Pairs)
        {
            ulong f = (ulong)Convert.ToInt64(flag, System.Globalization.CultureInfo.InvariantCulture);
            if (f != 0 && (bits & f) == f)
            {
                parts.Add(name);
                bits &= ~f;
            }
        }
        return bits == 0 ? string.Join('|', parts) : null;
    }
}

/// <summary>A two-way table between enum values and their text spelling.</summary>
public sealed class EnumNames<T> where T : struct, Enum
{
    private readonly Dictionary<T, string> _toName = [];
    private readonly Dictionary<string, T> _fromName = new(StringComparer.Ordinal);

    public EnumNames(params (T Value, string Name)[] pairs)
    {
        Pairs = pairs;
        foreach (var (value, name) in pairs)
        {
            _toName.TryAdd(value, name);
            _fromName.Add(name, value);
        }
    }

    /// <summary>Every (value, name) pair in table order.</summary>
    public IReadOnlyList<(T Value, string Name)> Pairs { get; }

    public IEnumerable<string> Names => Pairs.Select(p => p.Name);

    public bool TryGetName(T value, out string name) => _toName.TryGetValue(value, out name!);

    public bool TryGetValue(string name, out T value) => _fromName.TryGetValue(name, out value);

    /// <summary>The name, or the number for a value the table does not know (the parser then
    /// refuses it, so a corrupt value is visible rather than silently renamed).</summary>
    public string Format(T value) =>
        _toName.TryGetValue(value, out var name)
            ? name
            : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
