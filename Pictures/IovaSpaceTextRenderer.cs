using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Pictures;

/// <summary>One printed line of <c>verify show</c>. <see cref="Key"/> names what the line is
/// about (a domain's header field, a span by range and kind, a device's mapping) so the same line
/// of another system's state can be found; lines with <see cref="Compared"/> false (blank lines,
/// headings, free gaps, which follow from the rest) are never marked as differences.
/// <see cref="Name"/> is the start of a block's first line ("domain 0", "dev 0 nic"), where a
/// side-by-side rendering says whose state the block is.</summary>
public sealed record TextRow(string Key, string Text, bool Compared = true, string? Name = null)
{
    public static readonly TextRow Blank = new("", "", Compared: false);
}

/// <summary>A domain's or a device's lines, keyed like its first line.</summary>
public sealed record TextBlock(string Key, IReadOnlyList<TextRow> Rows);

/// <summary>
/// Prints an <see cref="IovaSpaceView"/> as plain text: per domain its aperture, devices, page
/// table (with its leaves per page size) and every span of its IOVA space by address (with the
/// free gaps between them), then per device its DMA limits, how its addresses reach memory, its
/// bypass windows and its live mappings.
/// </summary>
public static class IovaSpaceTextRenderer
{
    public static void Render(IovaSpaceView view, string title, TextWriter output)
    {
        output.WriteLine(title);
        var (domains, devices) = Blocks(view);
        if (domains.Count == 0)
        {
            output.WriteLine();
            output.WriteLine("no domains");
        }
        foreach (var block in domains)
            Write(block.Rows, output);
        output.WriteLine();
        output.WriteLine(devices.Count == 0 ? "no devices" : "devices:");
        foreach (var block in devices)
            Write(block.Rows, output);
    }

    private static void Write(IEnumerable<TextRow> rows, TextWriter output)
    {
        foreach (var row in rows)
            output.WriteLine(row.Text);
    }

    /// <summary>The domain blocks and the device blocks of a view, each in id order.</summary>
    internal static (List<TextBlock> Domains, List<TextBlock> Devices) Blocks(IovaSpaceView view)
    {
        var domains = view.Domains.Select(DomainBlock).ToList();
        var devices = view.Domains.SelectMany(d => d.Devices).Concat(view.Unattached).OrderBy(d => d.Id).Select(DeviceBlock).ToList();
        return (domains, devices);
    }

    private static TextBlock DomainBlock(DomainView view)
    {
        var d = view.Domain;
        string key = $"domain {d.Id}";
        var rows = new List<TextRow> { TextRow.Blank };
        string iommu = view.Iommu is { } i ? $"iommu {i.Id} ({i.Kind})" : $"iommu {d.Iommu}";
        rows.Add(new TextRow(key, $"{key}: {IovaSpaceView.TypeName(d.Type)}{(d.IsDefault ? ", default" : "")}; {iommu}, " +
                                  $"{d.Format.Format}, granule {Sizes.Human(d.Granule)}", Name: key));
        rows.Add(new TextRow($"{key} aperture", $"  aperture    {Range(d.Aperture)} ({Sizes.Human(d.Aperture.Size)})" +
                                                $"{(d.ForceAperture ? "" : ", not enforced")}; " + Allocator(d)));
        rows.Add(new TextRow($"{key} devices", "  devices     " + (view.Devices.Count == 0 ? "none" : string.Join(", ", view.Devices.Select(Name)))));

        ulong mapped = 0;
        foreach (var leaf in d.Leaves.Values) mapped += leaf.Size;
        string timer = d.TimerDeadline is ulong t ? $"; flush timer armed for {t} ms" : "";
        rows.Add(new TextRow($"{key} page table", $"  page table  {Count(d.Leaves.Count, "leaf", "leaves")}, {Sizes.Human(mapped)} mapped; " +
                                                  $"IOTLB {Count(d.Iotlb.Count, "entry", "entries")}; flush queue {d.FlushQueue.Count} pending, " +
                                                  $"flushes started {d.FlushStarted}, finished {d.FlushFinished}{timer}"));
        rows.Add(new TextRow($"{key} leaf sizes", $"  leaf sizes  {LeafSizes.PerPageSize(d.Leaves.Values, d.Format)}"));

        rows.Add(new TextRow("", "  IOVA space, by address:", Compared: false));
        int w = Math.Max(10, view.Spans.Count == 0 ? 0 : view.Spans.Max(s => Hex.Format(s.Range.Last).Length));
        rows.Add(new TextRow("", $"    {"start".PadRight(w)}  {"last".PadRight(w)}  {"size",11}  {"what",-12} detail", Compared: false));
        foreach (var s in view.Spans)
            rows.Add(new TextRow($"{key} {Range(s.Range)} {KindName(s.Kind)}",
                ($"    {Hex.Format(s.Range.Start).PadRight(w)}  {Hex.Format(s.Range.Last).PadRight(w)}  " +
                 $"{Sizes.Human(s.Range.Size),11}  {KindName(s.Kind),-12} {s.Label}").TrimEnd(),
                Compared: s.Kind != SpanKind.Free));
        return new TextBlock(key, rows);
    }

    private static TextBlock DeviceBlock(DeviceView dev)
    {
        string key = $"dev {dev.Id}";
        var rows = new List<TextRow>();
        var traits = new List<string>();
        if (dev.Config is { } c)
        {
            if (c.IsPci) traits.Add("PCI");
            if (c.Untrusted) traits.Add("untrusted");
            if (c.Virtio is bool v) traits.Add(v ? "virtio, ACCESS_PLATFORM" : "virtio, no ACCESS_PLATFORM");
        }
        string where = dev.Domain is { } dom ? $"domain {dom.Id}" : "no domain";
        string name = "  dev " + Name(dev);
        rows.Add(new TextRow(key, $"{name}{(traits.Count == 0 ? "" : " (" + string.Join(", ", traits) + ")")}: {where}", Name: name));

        string bus = dev.State.BusDmaLimit == 0 ? "none" : Hex.Format(dev.State.BusDmaLimit);
        rows.Add(new TextRow($"{key} limit", $"    DMA limit   {Hex.Format(dev.DmaLimit)} (mask {Hex.Format(dev.State.DmaMask)}, bus limit {bus}); " +
                                             $"coherent {Hex.Format(dev.CoherentLimit)}" + (dev.State.Pci32First ? "; trying IOVAs below 4 GiB first" : "")));
        rows.Add(new TextRow($"{key} path", $"    path        {dev.Path}"));
        foreach (var win in dev.Windows)
            rows.Add(new TextRow($"{key} {win.Kind} {Range(win.Range)}", $"    {win.Kind,-11} {Range(win.Range)} ({Sizes.Human(win.Range.Size)}): {win.Note}"));
        if (dev.Windows.Count == 0)
            rows.Add(new TextRow($"{key} bypass", "    bypass      none"));
        foreach (var m in dev.Mappings)
            rows.Add(new TextRow($"{key} mapping #{m.Index}", $"    {"mapping #" + m.Index,-11} {Hex.Format(m.Mapping.Dma.Value)} {IovaSpaceView.Describe(m.Mapping)}"));
        return new TextBlock(key, rows);
    }

    /// <summary>How IOVAs are chosen: dma-iommu's or the bitmap allocator, or, in an unmanaged
    /// domain, by whoever owns it.</summary>
    internal static string Allocator(DomainState d) => d.Type == DomainType.Unmanaged
        ? "no IOVA allocator: the domain's owner picks IOVAs (iommu_map)"
        : $"allocations from {Hex.Format(d.AllocStart)}, " + (d.Policy == IovaPolicy.SizeAligned ? "size-aligned" : "page-granular");

    private static string Name(DeviceView dev) => dev.Name.Length == 0 ? $"{dev.Id}" : $"{dev.Id} {dev.Name}";

    internal static string Range(AddrRange r) => $"{Hex.Format(r.Start)}..{Hex.Format(r.Last)}";

    private static string Count(int n, string one, string many) => $"{n} {(n == 1 ? one : many)}";

    internal static string KindName(SpanKind kind) => kind switch
    {
        SpanKind.Free => "free",
        SpanKind.Mapping => "mapping",
        SpanKind.MsiPage => "msi-page",
        SpanKind.FlushQueue => "flush-queue",
        SpanKind.Reserved => "reserved",
        SpanKind.Msi => "msi",
        SpanKind.SwMsi => "sw-msi",
        SpanKind.Direct => "direct",
        SpanKind.DirectRelaxable => "direct-relax",
        SpanKind.IommuMapped => "iommu-map",
        SpanKind.StrayLeaves => "stray-leaves",
        _ => kind.ToString(),
    };
}
