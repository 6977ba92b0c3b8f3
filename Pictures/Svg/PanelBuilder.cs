using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Pictures.Svg;

/// <summary>
/// Turns the renderer-neutral <see cref="IovaSpaceView"/> into panels: per domain the aperture,
/// the reserved/MSI/direct regions, the live allocations, the flush queue, and one lane per
/// attached device (its DMA mask, bus limit and bypass or aperture windows); then one panel for
/// the devices that have no domain. Bars are tagged per panel: R regions, A allocations,
/// Q flush queue, W device limits and windows.
/// </summary>
internal static class PanelBuilder
{
    public static List<Panel> Build(IovaSpaceView view, ViolationPlacement placement)
    {
        var panels = view.Domains.Select(d => ForDomain(d, placement.In(PanelKey.Domain(d.Domain.Id)))).ToList();
        if (view.Unattached.Count > 0 || placement.In(PanelKey.Unattached).Count > 0)
            panels.Add(ForUnattached(view.Unattached, placement.In(PanelKey.Unattached)));
        return panels;
    }

    private static Panel ForDomain(DomainView view, IReadOnlyList<ViolationGroup> violations)
    {
        var d = view.Domain;
        var tags = new TagCounter();
        var lanes = new List<Lane>();

        var aperture = new Bar(d.Aperture, Palette.Aperture, "aperture", "aperture",
            $"IOVA aperture{(d.ForceAperture ? "" : " (not enforced)")}; allocations from {Hex.Format(d.AllocStart)}, " +
            (d.Policy == IovaPolicy.SizeAligned ? "size-aligned" : "page-granular")) { Tag = "AP" };
        lanes.Add(new Lane("aperture", [aperture]));

        var spans = view.Unmerged.Where(s => s.Kind != SpanKind.Free).ToList();
        var regions = SameRangeMerged(spans.Where(s => s.Kind is SpanKind.Reserved or SpanKind.Msi or SpanKind.SwMsi or SpanKind.Direct or SpanKind.DirectRelaxable));
        var allocations = SameRangeMerged(spans.Where(s => s.Kind is SpanKind.Mapping or SpanKind.MsiPage or SpanKind.IommuMapped or SpanKind.StrayLeaves));
        var queued = SameRangeMerged(spans.Where(s => s.Kind == SpanKind.FlushQueue));
        AddLane(lanes, "regions", regions.Select(s => tags.Next('R', SpanBar(s))));
        AddLane(lanes, "allocations", allocations.Select(s => tags.Next('A', SpanBar(s))));
        AddLane(lanes, "flush queue", queued.Select(s => tags.Next('Q', SpanBar(s))));
        foreach (var dev in view.Devices)
            AddLane(lanes, DeviceName(dev), DeviceBars(dev).Select(b => tags.Next('W', b)));

        var iommus = new SortedSet<int> { d.Iommu };
        foreach (var dev in view.Devices)
            if (dev.Config?.Iommu is int i) iommus.Add(i);
        string iommu = iommus.Count > 1
            ? $"page table shared by IOMMUs {string.Join(", ", iommus)}"
            : view.Iommu is { } io ? $"IOMMU {io.Id} ({io.Kind})" : $"IOMMU {d.Iommu}";
        string heading = $"domain {d.Id}: {IovaSpaceView.TypeName(d.Type)}{(d.IsDefault ? ", default" : "")}; {iommu}; " +
                         $"{d.Format.Format}, granule {Sizes.Human(d.Granule)}";

        int queuedEntries = d.FlushQueue.Count;
        ulong mapped = 0;
        foreach (var leaf in d.Leaves.Values) mapped += leaf.Size;
        string devices = view.Devices.Count == 0 ? "no devices" : "devices " + string.Join(", ", view.Devices.Select(DeviceName));
        string sub = $"aperture {Hex.Format(d.Aperture.Start)}..{Hex.Format(d.Aperture.Last)} ({Sizes.Human(d.Aperture.Size)}); {devices}; " +
                     $"{Count(allocations.Count, "live allocation")}, {Count(queuedEntries, "flush-queue entry", "flush-queue entries")}, " +
                     $"{Sizes.Human(mapped)} mapped";
        return new Panel(heading, sub, lanes, violations);
    }

    private static Panel ForUnattached(IReadOnlyList<DeviceView> devices, IReadOnlyList<ViolationGroup> violations)
    {
        var tags = new TagCounter();
        var lanes = new List<Lane>();
        foreach (var dev in devices)
            AddLane(lanes, DeviceName(dev), DeviceBars(dev).Select(b => tags.Next('W', b)));
        string sub = devices.Count == 0 ? "no devices" : string.Join("; ", devices.Select(d => $"{DeviceName(d)}: {d.Path}"));
        return new Panel("devices without a domain: bus addresses are physical addresses", sub, lanes, violations);
    }

    private static void AddLane(List<Lane> lanes, string label, IEnumerable<Bar> bars)
    {
        var list = bars.ToList();
        if (list.Count > 0) lanes.Add(new Lane(label, list));
    }

    /// <summary>Spans of one lane that share a range become one (both descriptions), named by
    /// the kind that uses the range first; in address order.</summary>
    private static List<IovaSpan> SameRangeMerged(IEnumerable<IovaSpan> spans) => spans
        .GroupBy(s => s.Range)
        .Select(g =>
        {
            var ordered = g.OrderBy(s => IovaSpaceView.Precedence(s.Kind)).ToList();
            return new IovaSpan(g.Key, ordered[0].Kind, string.Join("; ", ordered.Select(s => s.Label).Distinct()));
        })
        .OrderBy(s => s.Range.Start).ThenByDescending(s => s.Range.Last)
        .ToList();

    private static Bar SpanBar(IovaSpan s)
    {
        var swatch = s.Kind == SpanKind.FlushQueue && s.Label.Contains("flushed, reusable", StringComparison.Ordinal)
            ? Palette.FlushedEntry
            : Palette.For(s.Kind);
        string kind = IovaSpaceTextRenderer.KindName(s.Kind);
        return new Bar(s.Range, swatch, kind, ShortName(s), s.Label) { Occupant = true };
    }

    /// <summary>What fits inside a bar: the owner of a mapping ("dev 0 #1 sg"), else the kind.</summary>
    private static string ShortName(IovaSpan s)
    {
        if (s.Kind == SpanKind.Mapping && s.Label.StartsWith("dev ", StringComparison.Ordinal))
        {
            var words = s.Label.Split(' ');
            if (words.Length >= 4) return string.Join(' ', words.Take(4));
        }
        return s.Kind switch
        {
            SpanKind.Mapping => "mapping",
            SpanKind.MsiPage => "MSI page",
            SpanKind.IommuMapped => "iommu_map",
            SpanKind.StrayLeaves => "stray leaves",
            SpanKind.FlushQueue => "flush queue",
            SpanKind.Msi => "hardware MSI window",
            SpanKind.SwMsi => "SW_MSI window",
            SpanKind.Direct => "direct",
            SpanKind.DirectRelaxable => "direct (relaxable)",
            _ => "reserved",
        };
    }

    /// <summary>A device's DMA mask, bus limit and windows, as ranges of bus addresses.</summary>
    private static IEnumerable<Bar> DeviceBars(DeviceView dev)
    {
        yield return new Bar(new AddrRange(0, dev.State.DmaMask), Palette.DmaMask, "dma_mask", $"dma_mask {Hex.Format(dev.State.DmaMask)}",
            $"dev {dev.Id}: DMA mask {Hex.Format(dev.State.DmaMask)}, coherent mask {Hex.Format(dev.State.CoherentMask)}; {dev.Path}");
        if (dev.State.BusDmaLimit != 0)
            yield return new Bar(new AddrRange(0, dev.State.BusDmaLimit), Palette.BusLimit, "bus-limit", $"bus limit {Hex.Format(dev.State.BusDmaLimit)}",
                $"dev {dev.Id}: bus DMA limit {Hex.Format(dev.State.BusDmaLimit)} (the DMA limit is {Hex.Format(dev.DmaLimit)})");
        foreach (var w in dev.Windows)
        {
            var swatch = Palette.ForWindow(w.Kind);
            string name = w.Kind switch { "aperture" => "GART aperture", "tce" => "TCE window", "ddw" => "DDW direct window", _ => w.Kind };
            yield return new Bar(w.Range, swatch, w.Kind, name, $"dev {dev.Id} {w.Kind}: {w.Note}");
        }
    }

    internal static string DeviceName(DeviceView dev) => dev.Name.Length == 0 ? $"dev {dev.Id}" : $"dev {dev.Id} {dev.Name}";

    private static string Count(int n, string one, string? many = null) => $"{n} {(n == 1 ? one : many ?? one + "s")}";

    /// <summary>Running numbers per letter within one panel.</summary>
    private sealed class TagCounter
    {
        private readonly Dictionary<char, int> _next = [];

        public Bar Next(char letter, Bar bar)
        {
            int n = _next.GetValueOrDefault(letter) + 1;
            _next[letter] = n;
            return bar with { Tag = $"{letter}{n}" };
        }
    }
}
