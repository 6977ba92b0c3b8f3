using System.Globalization;
using System.Text;

namespace DmaVerify.Contracts;

/// <summary>
/// Prints a <see cref="Scenario"/> in the scenario text form, the format of the
/// regression files in corpus/, of printed counterexamples and of <c>verify replay FILE</c>.
/// <see cref="ScenarioParser"/> reads it back: Parse(Print(s)) == s, and printing a parsed
/// canonical text gives the same text.
/// <code>
/// # Grammar: one item per line ('\n' or "\r\n"). '#' at the start of a line or after a blank
/// # (outside quotes) starts a comment; blank lines are ignored. Keys may come in any order.
/// # Words are case-sensitive (hex digits are not).
/// preset NAME                                  first, exactly once (x86-vtd, virtio@arm-smmu, …)
/// device ID key=value… flag…                   optional, before the first op; describes the whole
///                                              device, replacing the preset's device with that id
///                                              (nothing is inherited) or adding one
///   keys:  name=STR iommu=N|none mask=X coherent=X bus-limit=X max-seg=X boundary=X
///          virtio=platform|bypass      flags: pci untrusted
///   left out: name "", iommu=none, mask and coherent 0xFFFFFFFF, bus-limit=0x0, max-seg=0x10000,
///             boundary=0xFFFFFFFFFFFFFFFF, not pci, trusted, not virtio
/// VERB key=value… [# -> OUTCOME]               one op per line; the optional result comment is
///                                              the step's expected outcome ("# -> " alone on a
///                                              line is an ordinary comment)
///   alloc-domain iommu=0 type=unmanaged
///   attach dev=1 domain=2
///   set-domain-type dev=1 type=dma-fq
///   set-mask dev=1 mask=0xFFFFFFFF coherent=0xFFFFFFFF
///   map dev=1 phys=0x1234000 len=0x2000 dir=to_device [attrs=skip-cpu-sync|privileged]
///   unmap dev=1 handle=#0 len=0x2000 dir=to_device
///   map-sg dev=1 segs=0x1000+0x2000,0x5000+0x1000 dir=from_device
///   unmap-sg dev=1 handle=#1 nents=2 dir=from_device
///   alloc-coherent dev=1 phys=0x2000000 size=0x4000
///   free-coherent dev=1 handle=#2 size=0x4000
///   map-resource dev=0 phys=0xC0000000 len=0x1000 dir=bidirectional
///   unmap-resource dev=0 handle=0xC0000000 len=0x1000 dir=bidirectional
///   iommu-map domain=2 iova=0x100000 phys=0x1234000 size=0x1000 prot=rw|cache
///   iommu-unmap domain=2 iova=0x100000 size=0x1000
///   device-access dev=1 addr=#0+0x10 len=0x4 write          (or: read)
///   setup-msi dev=1 doorbell=0xFEE00000
///   flush domain=2
///   tick ms=10
/// OUTCOME:
///   ok | mapped X [bounce=X] | sg-mapped SEGS [bounces=X,X…|none] | domain N | unmapped X
///   | accessed DMA->PHYS+LEN,…|none | failed KIND ["MESSAGE"]
/// Values:
///   X      number; printed as upper-case hex 0x…, read as hex or decimal ('_' allowed between
///          digits); must fit in 64 bits. Ids (dev, domain, iommu, device ID), nents, ms and
///          handle indexes are printed in decimal.
///   REF    #N (the device's live DMA-API mapping number N, from 0 in creation order), #N+X
///          (plus an offset) or a raw bus address X
///   SEGS   PHYS+LEN,PHYS+LEN… or none (an empty list)
///   STR    a bare word [A-Za-z0-9._@/:+-]+ or "quoted" with \\ \" \n \r \t \uXXXX escapes
///   dir    to_device | from_device | bidirectional | none
///   type   blocked | identity | dma | dma-fq | unmanaged
///   attrs  skip-cpu-sync | privileged, joined by '|'; none (the default, not printed)
///   prot   r | w | rw, then cache | noexec | mmio | priv, joined by '|'; none
///   KIND   DmaErrorKind in kebab case: out-of-iova, double-unmap, wrong-size, fault, …
/// </code>
/// Printing never throws. An enum value no name covers is printed as a number, which the
/// parser refuses, so a corrupt value shows up instead of being silently renamed.
/// </summary>
public static class ScenarioPrinter
{
    /// <summary>The whole scenario: header, device lines, one line per step; '\n' line ends.</summary>
    public static string Print(Scenario scenario)
    {
        var sb = new StringBuilder();
        sb.Append(TextNames.PresetWord).Append(' ').Append(scenario.Preset).Append('\n');
        foreach (var device in scenario.Devices ?? ValueList<DeviceConfig>.Empty)
            sb.Append(FormatDevice(device)).Append('\n');
        foreach (var step in scenario.Steps ?? ValueList<ScenarioStep>.Empty)
            sb.Append(FormatStep(step)).Append('\n');
        return sb.ToString();
    }

    /// <summary>One op line, with its expected outcome as a result comment when there is one.</summary>
    public static string FormatStep(ScenarioStep step) =>
        step.Expected is null ? FormatOp(step.Op) : $"{FormatOp(step.Op)} # {TextNames.ResultMarker} {FormatOutcome(step.Expected)}";

    /// <summary>A device line: <c>device 1 name=sata iommu=0 mask=0xFFFFFFFF …</c>. Name, iommu and
    /// both masks are always printed; the other keys only when they differ from the defaults.</summary>
    public static string FormatDevice(DeviceConfig d)
    {
        var defaults = new DeviceConfig { Id = d.Id };
        var sb = new StringBuilder();
        sb.Append(TextNames.DeviceWord).Append(' ').Append(Dec(d.Id));
        if (!string.IsNullOrEmpty(d.Name)) Key(sb, TextNames.Name, FormatString(d.Name));
        Key(sb, TextNames.Iommu, d.Iommu is int i ? Dec(i) : TextNames.NoIommu);
        Key(sb, TextNames.Mask, Hex.Format(d.DmaMask));
        Key(sb, TextNames.Coherent, Hex.Format(d.CoherentMask));
        if (d.BusDmaLimit != defaults.BusDmaLimit) Key(sb, TextNames.BusLimit, Hex.Format(d.BusDmaLimit));
        if (d.MaxSegmentSize != defaults.MaxSegmentSize) Key(sb, TextNames.MaxSeg, Hex.Format(d.MaxSegmentSize));
        if (d.SegmentBoundaryMask != defaults.SegmentBoundaryMask) Key(sb, TextNames.Boundary, Hex.Format(d.SegmentBoundaryMask));
        if (d.IsPci) sb.Append(' ').Append(TextNames.Pci);
        if (d.Untrusted) sb.Append(' ').Append(TextNames.Untrusted);
        if (d.Virtio is bool v) Key(sb, TextNames.Virtio, v ? TextNames.VirtioPlatform : TextNames.VirtioBypass);
        return sb.ToString();
    }

    /// <summary>One op on one line, e.g. <c>map dev=1 phys=0x1234000 len=0x2000 dir=to_device</c>.</summary>
    public static string FormatOp(Op op)
    {
        var sb = new StringBuilder();
        switch (op)
        {
            case AllocDomain o:
                sb.Append(TextNames.AllocDomain);
                Key(sb, TextNames.Iommu, Dec(o.Iommu));
                Key(sb, TextNames.Type, TextNames.DomainTypes.Format(o.Type));
                break;
            case Attach o:
                sb.Append(TextNames.Attach);
                Key(sb, TextNames.Dev, Dec(o.Device));
                Key(sb, TextNames.Domain, Dec(o.Domain));
                break;
            case SetDomainType o:
                sb.Append(TextNames.SetDomainType);
                Key(sb, TextNames.Dev, Dec(o.Device));
                Key(sb, TextNames.Type, TextNames.DomainTypes.Format(o.Type));
                break;
            case SetMask o:
                sb.Append(TextNames.SetMask);
                Key(sb, TextNames.Dev, Dec(o.Device));
                Key(sb, TextNames.Mask, Hex.Format(o.Mask));
                Key(sb, TextNames.Coherent, Hex.Format(o.CoherentMask));
                break;
            case Map o:
                sb.Append(TextNames.Map);
                Key(sb, TextNames.Dev, Dec(o.Device));
                Key(sb, TextNames.Phys, Hex.Format(o.Phys.Value));
                Key(sb, TextNames.Len, Hex.Format(o.Length));
                Key(sb, TextNames.Dir, TextNames.Directions.Format(o.Direction));
                if (o.Attrs != DmaAttrs.None) Key(sb, TextNames.Attrs, Flags(TextNames.AttrFlags, o.Attrs));
                break;
            case Unmap o:
                sb.Append(TextNames.Unmap);
                Key(sb, TextNames.Dev, Dec(o.Device));
                Key(sb, TextNames.Handle, FormatRef(o.Handle));
                Key(sb, TextNames.Len, Hex.Format(o.Length));
                Key(sb, TextNames.Dir, TextNames.Directions.Format(o.Direction));
                break;
            case MapSg o:
                sb.Append(TextNames.MapSg);
                Key(sb, TextNames.Dev, Dec(o.Device));
                Key(sb, TextNames.Segs, List(o.Segments, s => $"{Hex.Format(s.Phys.Value)}+{Hex.Format(s.Length)}"));
                Key(sb, TextNames.Dir, TextNames.Directions.Format(o.Direction));
                break;
            case UnmapSg o:
                sb.Append(TextNames.UnmapSg);
                Key(sb, TextNames.Dev, Dec(o.Device));
                Key(sb, TextNames.Handle, FormatRef(o.Handle));
                Key(sb, TextNames.Nents, Dec(o.Nents));
                Key(sb, TextNames.Dir, TextNames.Directions.Format(o.Direction));
                break;
            case AllocCoherent o:
                sb.Append(TextNames.AllocCoherent);
                Key(sb, TextNames.Dev, Dec(o.Device));
                Key(sb, TextNames.Phys, Hex.Format(o.Phys.Value));
                Key(sb, TextNames.Size, Hex.Format(o.Size));
                break;
            case FreeCoherent o:
                sb.Append(TextNames.FreeCoherent);
                Key(sb, TextNames.Dev, Dec(o.Device));
                Key(sb, TextNames.Handle, FormatRef(o.Handle));
                Key(sb, TextNames.Size, Hex.Format(o.Size));
                break;
            case MapResource o:
                sb.Append(TextNames.MapResource);
                Key(sb, TextNames.Dev, Dec(o.Device));
                Key(sb, TextNames.Phys, Hex.Format(o.Phys.Value));
                Key(sb, TextNames.Len, Hex.Format(o.Length));
                Key(sb, TextNames.Dir, TextNames.Directions.Format(o.Direction));
                break;
            case UnmapResource o:
                sb.Append(TextNames.UnmapResource);
                Key(sb, TextNames.Dev, Dec(o.Device));
                Key(sb, TextNames.Handle, FormatRef(o.Handle));
                Key(sb, TextNames.Len, Hex.Format(o.Length));
                Key(sb, TextNames.Dir, TextNames.Directions.Format(o.Direction));
                break;
            case IommuMap o:
                sb.Append(TextNames.IommuMap);
                Key(sb, TextNames.Domain, Dec(o.Domain));
                Key(sb, TextNames.Iova, Hex.Format(o.Iova.Value));
                Key(sb, TextNames.Phys, Hex.Format(o.Phys.Value));
                Key(sb, TextNames.Size, Hex.Format(o.Size));
                Key(sb, TextNames.Prot, Flags(TextNames.ProtFlags, o.Prot));
                break;
            case IommuUnmap o:
                sb.Append(TextNames.IommuUnmap);
                Key(sb, TextNames.Domain, Dec(o.Domain));
                Key(sb, TextNames.Iova, Hex.Format(o.Iova.Value));
                Key(sb, TextNames.Size, Hex.Format(o.Size));
                break;
            case DeviceAccess o:
                sb.Append(TextNames.DeviceAccess);
                Key(sb, TextNames.Dev, Dec(o.Device));
                Key(sb, TextNames.Addr, FormatRef(o.Address));
                Key(sb, TextNames.Len, Hex.Format(o.Length));
                sb.Append(' ').Append(o.Write ? TextNames.Write : TextNames.Read);
                break;
            case SetupMsi o:
                sb.Append(TextNames.SetupMsi);
                Key(sb, TextNames.Dev, Dec(o.Device));
                Key(sb, TextNames.Doorbell, Hex.Format(o.Doorbell.Value));
                break;
            case Flush o:
                sb.Append(TextNames.Flush);
                Key(sb, TextNames.Domain, Dec(o.Domain));
                break;
            case Tick o:
                sb.Append(TextNames.Tick);
                Key(sb, TextNames.Ms, o.Milliseconds.ToString(CultureInfo.InvariantCulture));
                break;
            default:
                // An op this format does not know yet: a verb the parser refuses, never a crash.
                sb.Append('!').Append(op?.GetType().Name ?? "null");
                break;
        }
        return sb.ToString();
    }

    /// <summary>One outcome on one line, e.g. <c>mapped 0xFFFFF000</c> or
    /// <c>failed out-of-iova "no space below 0xFFFFFFFF"</c>.</summary>
    public static string FormatOutcome(Outcome outcome) => outcome switch
    {
        Done => TextNames.Ok,
        Mapped m => m.Bounce is PhysAddr b
            ? $"{TextNames.Mapped} {Hex.Format(m.Dma.Value)} {TextNames.Bounce}={Hex.Format(b.Value)}"
            : $"{TextNames.Mapped} {Hex.Format(m.Dma.Value)}",
        SgMapped s => s.Bounces is null
            ? $"{TextNames.SgMapped} {FormatSegments(s.Segments)}"
            : $"{TextNames.SgMapped} {FormatSegments(s.Segments)} {TextNames.Bounces}={List(s.Bounces, b => Hex.Format(b.Value))}",
        DomainAllocated d => $"{TextNames.DomainAllocated} {Dec(d.Domain)}",
        Unmapped u => $"{TextNames.Unmapped} {Hex.Format(u.Bytes)}",
        Accessed a => $"{TextNames.Accessed} {List(a.Chunks, c => $"{Hex.Format(c.Dma)}->{Hex.Format(c.Phys.Value)}+{Hex.Format(c.Length)}")}",
        Failed { Error: null } => $"{TextNames.Failed} !null",
        Failed f => string.IsNullOrEmpty(f.Error.Message)
            ? $"{TextNames.Failed} {TextNames.ErrorKinds.Format(f.Kind)}"
            : $"{TextNames.Failed} {TextNames.ErrorKinds.Format(f.Kind)} {Quote(f.Error.Message)}",
        _ => "!" + (outcome?.GetType().Name ?? "null"),
    };

    /// <summary><c>#2</c>, <c>#2+0x10</c> or a raw address <c>0x1234</c>.</summary>
    public static string FormatRef(AddressRef reference) => reference switch
    {
        LiveRef { Offset: 0 } l => "#" + Dec(l.Index),
        LiveRef l => $"#{Dec(l.Index)}+{Hex.Format(l.Offset)}",
        RawRef r => Hex.Format(r.Address),
        _ => "!" + (reference?.GetType().Name ?? "null"),
    };

    /// <summary>A bare word when it needs no quoting, otherwise a quoted string.</summary>
    public static string FormatString(string value) => IsBareWord(value) ? value : Quote(value);

    /// <summary>Characters a string may consist of to be printed without quotes.</summary>
    internal static bool IsBareChar(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '.' or '_' or '@' or '/' or ':' or '+' or '-';

    internal static bool IsBareWord(string value) => value.Length > 0 && value.All(IsBareChar);

    /// <summary>A double-quoted string. Backslash, quote, control characters, line and paragraph
    /// separators and unpaired surrogates are escaped, so the result is one printable line.</summary>
    public static string Quote(string value)
    {
        var sb = new StringBuilder(value.Length + 2);
        sb.Append('"');
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            switch (c)
            {
                case '\\': sb.Append(@"\\"); break;
                case '"': sb.Append("\\\""); break;
                case '\n': sb.Append(@"\n"); break;
                case '\r': sb.Append(@"\r"); break;
                case '\t': sb.Append(@"\t"); break;
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                    {
                        sb.Append(c).Append(value[++i]);
                    }
                    else if (char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029' or '\uFEFF')
                    {
                        sb.Append(@"\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    }
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    private static string FormatSegments(ValueList<DmaSegment> segments) =>
        List(segments, s => $"{Hex.Format(s.Dma.Value)}+{Hex.Format(s.Length)}");

    private static string List<T>(IReadOnlyList<T>? items, Func<T, string> format) =>
        items is null || items.Count == 0 ? TextNames.EmptyList : string.Join(',', items.Select(format));

    private static string Flags<T>(EnumNames<T> names, T value) where T : struct, Enum =>
        TextNames.FormatFlags(names, value) ?? names.Format(value);

    private static string Dec(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static void Key(StringBuilder sb, string key, string value) => sb.Append(' ').Append(key).Append('=').Append(value);
}
