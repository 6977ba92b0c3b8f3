using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Cli.Show;

/// <summary>
/// Prints an <see cref="IovaSpaceView"/> as plain text: per domain its aperture, devices and
/// every span of its IOVA space by address (with the free gaps between them), then per device
/// its DMA limits, how its addresses reach memory, its bypass windows and its live mappings.
/// </summary>
internal static class IovaSpaceTextRenderer
{
    public static void Render(IovaSpaceView view, string title, TextWriter output)
    {
        output.WriteLine(title);

        if (view.Domains.Count == 0)
        {
            output.WriteLine();
            output.WriteLine("no domains");
        }
        foreach (var d in view.Domains)
            RenderDomain(d, output);

        var devices = view.Domains.SelectMany(d => d.Devices).Concat(view.Unattached).OrderBy(d => d.Id).ToList();
        output.WriteLine();
        output.WriteLine(devices.Count == 0 ? "no devices" : "devices:");
        foreach (var dev in devices)
            RenderDevice(dev, output);
    }

    private static void RenderDomain(DomainView view, TextWriter output)
    {
        var d = view.Domain;
        output.WriteLine();
        string iommu = view.Iommu is { } i ? $"iommu {i.Id} ({i.Kind})" : $"iommu {d.Iommu}";
        output.WriteLine($"domain {d.Id}: {IovaSpaceView.TypeName(d.Type)}{(d.IsDefault ? ", default" : "")}; {iommu}, " +
                         $"{d.Format.Format}, granule {Sizes.Human(d.Granule)}");
        output.WriteLine($"  aperture    {Range(d.Aperture)} ({Sizes.Human(d.Aperture.Size)})" +
                         $"{(d.ForceAperture ? "" : ", not enforced")}; " + Allocator(d));
        output.WriteLine("  devices     " + (view.Devices.Count == 0 ? "none" : string.Join(", ", view.Devices.Select(Name))));

        ulong mapped = 0;
        foreach (var leaf in d.Leaves.Values) mapped += leaf.Size;
        string timer = d.TimerDeadline is ulong t ? $"; flush timer armed for {t} ms" : "";
        output.WriteLine($"  page table  {Count(d.Leaves.Count, "leaf", "leaves")}, {Sizes.Human(mapped)} mapped; " +
                         $"IOTLB {Count(d.Iotlb.Count, "entry", "entries")}; flush queue {d.FlushQueue.Count} pending, " +
                         $"flushes started {d.FlushStarted}, finished {d.FlushFinished}{timer}");
        output.WriteLine($"  leaf sizes  {LeafSizes.PerPageSize(d.Leaves.Values, d.Format)}");

        output.WriteLine("  IOVA space, by address:");
        int w = Math.Max(10, view.Spans.Count == 0 ? 0 : view.Spans.Max(s => Hex.Format(s.Range.Last).Length));
        output.WriteLine($"    {"start".PadRight(w)}  {"last".PadRight(w)}  {"size",11}  {"what",-12} detail");
        foreach (var s in view.Spans)
            output.WriteLine(($"    {Hex.Format(s.Range.Start).PadRight(w)}  {Hex.Format(s.Range.Last).PadRight(w)}  " +
                              $"{Sizes.Human(s.Range.Size),11}  {KindName(s.Kind),-12} {s.Label}").TrimEnd());
    }

    private static void RenderDevice(DeviceView dev, TextWriter output)
    {
        var traits = new List<string>();
        if (dev.Config is { } c)
        {
            if (c.IsPci) traits.Add("PCI");
            if (c.Untrusted) traits.Add("untrusted");
            if (c.Virtio is bool v) traits.Add(v ? "virtio, ACCESS_PLATFORM" : "virtio, no ACCESS_PLATFORM");
        }
        string where = dev.Domain is { } dom ? $"domain {dom.Id}" : "no domain";
        output.WriteLine($"  dev {Name(dev)}{(traits.Count == 0 ? "" : " (" + string.Join(", ", traits) + ")")}: {where}");

        string bus = dev.State.BusDmaLimit == 0 ? "none" : Hex.Format(dev.State.BusDmaLimit);
        output.WriteLine($"    DMA limit   {Hex.Format(dev.DmaLimit)} (mask {Hex.Format(dev.State.DmaMask)}, bus limit {bus}); " +
                         $"coherent {Hex.Format(dev.CoherentLimit)}" + (dev.State.Pci32First ? "; trying IOVAs below 4 GiB first" : ""));
        output.WriteLine($"    path        {dev.Path}");
        foreach (var win in dev.Windows)
            output.WriteLine($"    {win.Kind,-11} {Range(win.Range)} ({Sizes.Human(win.Range.Size)}): {win.Note}");
        if (dev.Windows.Count == 0)
            output.WriteLine("    bypass      none");
        foreach (var m in dev.Mappings)
            output.WriteLine($"    {"mapping #" + m.Index,-11} {Hex.Format(m.Mapping.Dma.Value)} {IovaSpaceView.Describe(m.Mapping)}");
    }

    /// <summary>How IOVAs are chosen: dma-iommu's or the bitmap allocator, or, in an unmanaged
    /// domain, by whoever owns it.</summary>
    internal static string Allocator(DomainState d) => d.Type == DomainType.Unmanaged
        ? "no IOVA allocator: the domain's owner picks IOVAs (iommu_map)"
        : $"allocations from {Hex.Format(d.AllocStart)}, " + (d.Policy == IovaPolicy.SizeAligned ? "size-aligned" : "page-granular");

    private static string Name(DeviceView dev) => dev.Name.Length == 0 ? $"{dev.Id}" : $"{dev.Id} {dev.Name}";

    private static string Range(AddrRange r) => $"{Hex.Format(r.Start)}..{Hex.Format(r.Last)}";

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
