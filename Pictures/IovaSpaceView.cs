using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Pictures;

/// <summary>What occupies a span of IOVA space.</summary>
public enum SpanKind
{
    Free,
    Mapping,
    MsiPage,
    FlushQueue,
    Reserved,
    Msi,
    SwMsi,
    Direct,
    DirectRelaxable,
    // leaves of an unmanaged domain's owner (iommu_map), outside any allocation
    IommuMapped,
    // leaves of a DMA-API domain that no allocation, MSI page or direct region accounts for
    StrayLeaves,
}

/// <summary>One row of an IOVA space: a range, what it is, and a description for people.
/// Spans with the same range are merged into one row with both descriptions.</summary>
public sealed record IovaSpan(AddrRange Range, SpanKind Kind, string Label);

/// <summary>A range of bus addresses a device can use without translation, or a window that
/// decides how its addresses are treated (GART aperture, TCE windows).</summary>
public sealed record DmaWindow(string Kind, AddrRange Range, string Note);

public sealed record MappingView(int Index, DmaMapping Mapping);

public sealed record DeviceView(
    int Id,
    string Name,
    DeviceConfig? Config,
    DeviceState State,
    DomainState? Domain,
    // min(dma mask, bus DMA limit when set)
    ulong DmaLimit,
    ulong CoherentLimit,
    // how the device's bus addresses reach memory, in a sentence
    string Path,
    IReadOnlyList<DmaWindow> Windows,
    IReadOnlyList<MappingView> Mappings);

public sealed record DomainView(
    DomainState Domain,
    IommuConfig? Iommu,
    IReadOnlyList<DeviceView> Devices,
    // every occupied or special span, and the free gaps of the aperture between them,
    // sorted by start address (then by size, largest first); spans with the same range merged
    IReadOnlyList<IovaSpan> Spans,
    // the occupied and special spans before merging (a mapping and the MSI region it sits on
    // stay two), in the order found: what a picture draws on separate lanes
    IReadOnlyList<IovaSpan> Unmerged);

/// <summary>
/// A renderer-neutral picture of a <see cref="SystemState"/>'s IOVA spaces: what
/// <c>verify show</c> prints as text and a later <c>--svg</c> draws. Built from the state alone
/// (and the platform it names), so it works on any system that exports a state.
/// </summary>
public sealed record IovaSpaceView(
    PlatformConfig Platform,
    IReadOnlyList<DomainView> Domains,
    // devices with no domain (no IOMMU, or an IOMMU-bypassing virtio device)
    IReadOnlyList<DeviceView> Unattached)
{
    public static IovaSpaceView Of(SystemState state)
    {
        var devices = state.Devices.OrderBy(d => d.Id).Select(d => DeviceOf(state, d)).ToList();
        var domains = state.Domains.OrderBy(d => d.Id).Select(d =>
        {
            var unmerged = UnmergedSpansOf(state, d);
            return new DomainView(d, state.Platform.Iommu(d.Iommu), devices.Where(v => v.Domain?.Id == d.Id).ToList(),
                Merged(unmerged, d.Aperture), unmerged);
        }).ToList();
        return new IovaSpaceView(state.Platform, domains, devices.Where(v => v.Domain is null).ToList());
    }

    private static List<IovaSpan> UnmergedSpansOf(SystemState state, DomainState domain)
    {
        var spans = new List<IovaSpan>();

        foreach (var a in domain.Allocations)
            spans.Add(a.Owner switch
            {
                AllocationOwner.Mapping => new IovaSpan(a.Range, SpanKind.Mapping, MappingLabel(state, domain, a.Range) + LeavesIn(domain, a.Range, "no leaves")),
                AllocationOwner.MsiPage => new IovaSpan(a.Range, SpanKind.MsiPage, "MSI page"), // its doorbell span names the phys
                _ => new IovaSpan(a.Range, SpanKind.FlushQueue, "unmapped, held by the flush queue" + LeavesIn(domain, a.Range, null)),
            });

        foreach (var r in domain.Reserved)
            spans.Add(new IovaSpan(r.Range, SpanKind.Reserved, $"reserved: {r.Reason}"));

        var iommu = state.Platform.Iommu(domain.Iommu);
        if (iommu is not null)
            foreach (var region in iommu.Regions)
                spans.Add(new IovaSpan(region.Range, KindOf(region.Type), RegionLabels.Of(region, iommu, domain)));

        foreach (var e in domain.FlushQueue)
        {
            bool reusable = domain.FlushFinished > e.Counter;
            spans.Add(new IovaSpan(e.Iova, SpanKind.FlushQueue,
                $"flush queue entry, counter {e.Counter}: " + (reusable ? "flushed, reusable" : "waiting for a flush (not reusable yet)")));
        }

        foreach (var m in domain.MsiPages)
            if (AddrRange.TryFromLength(m.Iova, domain.Granule, out var page))
                spans.Add(new IovaSpan(page, SpanKind.MsiPage, $"MSI doorbell page -> phys {Hex.Format(m.DoorbellPage)}"));

        spans.AddRange(UnaccountedLeafRuns(domain, iommu));
        return spans;
    }

    /// <summary>
    /// The leaves no allocation, MSI page or 1:1 direct mapping accounts for, as runs of leaves
    /// contiguous in IOVA and phys with one prot: in an unmanaged domain what its owner mapped
    /// with iommu_map (the state keeps leaves, not calls, so adjacent calls that continue each
    /// other show as one run); in a DMA domain leaves nothing explains.
    /// </summary>
    private static IEnumerable<IovaSpan> UnaccountedLeafRuns(DomainState domain, IommuConfig? iommu)
    {
        var accounted = domain.Allocations.Select(a => a.Range)
            .Concat(domain.MsiPages.Select(m => AddrRange.TryFromLength(m.Iova, domain.Granule, out var r) ? r : (AddrRange?)null)
                .Where(r => r is not null).Select(r => r!.Value))
            .ToList();
        var direct = domain.IsDmaApi && iommu is not null
            ? iommu.Regions.Where(r => r.IsIdentityMapped).Select(r => r.Range).ToList()
            : [];
        bool Explained(Leaf leaf) =>
            accounted.Any(a => a.Overlaps(leaf.Range)) ||
            (leaf.Iova == leaf.Phys && direct.Any(r => r.Overlaps(leaf.Range)));

        var run = new List<Leaf>();
        foreach (var leaf in domain.Leaves.Values.Where(l => l.Size > 0 && !Explained(l)))
        {
            if (run.Count > 0 && !Continues(run[^1], leaf))
            {
                yield return LeafRun(domain, run);
                run = [];
            }
            run.Add(leaf);
        }
        if (run.Count > 0) yield return LeafRun(domain, run);
    }

    /// <summary>"; leaves 2 × 4 KiB -> phys 0x1000": the leaves inside an allocation, one entry
    /// per run contiguous in IOVA and phys, so a page mapped elsewhere shows; <paramref name="none"/>
    /// (or nothing) when it has none.</summary>
    private static string LeavesIn(DomainState domain, AddrRange range, string? none)
    {
        var runs = new List<List<Leaf>>();
        foreach (var leaf in domain.Leaves.Values.Where(l => l.Size > 0 && range.Overlaps(l.Range)))
        {
            if (runs.Count > 0 && Continues(runs[^1][^1], leaf)) runs[^1].Add(leaf);
            else runs.Add([leaf]);
        }
        if (runs.Count == 0) return none is null ? "" : "; " + none;
        return "; leaves " + string.Join(", ", runs.Select(r => $"{LeafSizes.Short(r)} -> phys {Hex.Format(r[0].Phys)}"));
    }

    private static bool Continues(Leaf previous, Leaf next) =>
        previous.Range.Last != ulong.MaxValue && next.Iova == previous.Range.Last + 1 &&
        next.Phys == previous.Phys + previous.Size && next.Prot == previous.Prot;

    private static IovaSpan LeafRun(DomainState domain, List<Leaf> run)
    {
        var range = new AddrRange(run[0].Iova, run[^1].Range.Last);
        ulong physLast = run[^1].Phys + (run[^1].Size - 1);
        string what = domain.Type == DomainType.Unmanaged ? "iommu_map'd" : "leaves outside any allocation";
        return new IovaSpan(range, domain.Type == DomainType.Unmanaged ? SpanKind.IommuMapped : SpanKind.StrayLeaves,
            $"{what}: phys {Hex.Format(run[0].Phys)}..{Hex.Format(physLast)}, prot {ProtText.Of(run[0].Prot)}; leaves {LeafSizes.Short(run)}");
    }

    private static IReadOnlyList<IovaSpan> Merged(List<IovaSpan> spans, AddrRange aperture)
    {
        var merged = spans
            .GroupBy(s => s.Range)
            .Select(g =>
            {
                var ordered = g.OrderBy(s => Precedence(s.Kind)).ToList();
                return new IovaSpan(g.Key, ordered[0].Kind, string.Join("; ", ordered.Select(s => s.Label).Distinct()));
            })
            .OrderBy(s => s.Range.Start).ThenByDescending(s => s.Range.Last)
            .ToList();
        return WithFreeGaps(merged, aperture);
    }

    /// <summary>Adds the free gaps of the aperture between the spans (spans may overlap: a
    /// region inside a PCI window, an allocation inside its reservation).</summary>
    private static List<IovaSpan> WithFreeGaps(List<IovaSpan> spans, AddrRange aperture)
    {
        var result = new List<IovaSpan>();
        ulong cursor = aperture.Start;
        bool exhausted = false; // cursor has passed the aperture's last address
        foreach (var s in spans)
        {
            if (!exhausted && s.Range.Start > cursor && cursor <= aperture.Last)
            {
                ulong last = Math.Min(s.Range.Start - 1, aperture.Last);
                result.Add(new IovaSpan(new AddrRange(cursor, last), SpanKind.Free, ""));
            }
            result.Add(s);
            if (!exhausted && s.Range.Last >= cursor)
            {
                if (s.Range.Last == ulong.MaxValue) exhausted = true;
                else cursor = s.Range.Last + 1;
            }
        }
        if (!exhausted && cursor >= aperture.Start && cursor <= aperture.Last)
            result.Add(new IovaSpan(new AddrRange(cursor, aperture.Last), SpanKind.Free, ""));
        return result;
    }

    /// <summary>Which kind names a row when several spans share a range: what uses the range
    /// first, then the specific region type, then a plain reservation.</summary>
    internal static int Precedence(SpanKind kind) => kind switch
    {
        SpanKind.Mapping => 0,
        SpanKind.IommuMapped or SpanKind.StrayLeaves => 0,
        SpanKind.MsiPage => 1,
        SpanKind.FlushQueue => 2,
        SpanKind.Msi => 3,
        SpanKind.SwMsi => 4,
        SpanKind.Direct => 5,
        SpanKind.DirectRelaxable => 6,
        SpanKind.Reserved => 7,
        _ => 8,
    };

    private static SpanKind KindOf(ReservedRegionType type) => type switch
    {
        ReservedRegionType.Msi => SpanKind.Msi,
        ReservedRegionType.SwMsi => SpanKind.SwMsi,
        ReservedRegionType.Direct => SpanKind.Direct,
        ReservedRegionType.DirectRelaxable => SpanKind.DirectRelaxable,
        _ => SpanKind.Reserved,
    };

    private static string MappingLabel(SystemState state, DomainState domain, AddrRange allocation)
    {
        var owners = state.Mappings
            .Where(m => m.Parts.Any(p => p.Domain == domain.Id && p.Allocation == allocation))
            .Select(m => $"dev {m.Device} {LiveIndex(state, m)} {Describe(m)}")
            .ToList();
        return owners.Count == 0 ? "mapping (no live DMA-API owner: iommu_map or leaked)" : string.Join("; ", owners);
    }

    private static string LiveIndex(SystemState state, DmaMapping m)
    {
        int i = 0;
        foreach (var other in state.MappingsOf(m.Device))
        {
            if (ReferenceEquals(other, m)) return $"#{i}";
            i++;
        }
        return "#?";
    }

    internal static string Describe(DmaMapping m)
    {
        string kind = m.Kind.ToString().ToLowerInvariant();
        string nents = m.Kind == MappingKind.Sg ? $" ({m.Nents} entries -> {m.Segments.Count} segments)" : "";
        return $"{kind} {Direction(m.Direction)} phys {m.Phys} {Sizes.Human(m.Size)}{nents}";
    }

    internal static string Direction(DmaDirection d) => d switch
    {
        DmaDirection.ToDevice => "to_device",
        DmaDirection.FromDevice => "from_device",
        DmaDirection.Bidirectional => "bidirectional",
        _ => "none",
    };

    private static DeviceView DeviceOf(SystemState state, DeviceState device)
    {
        var config = state.Platform.Device(device.Id);
        var domain = device.Domain is int id ? state.Domain(id) : null;
        var iommu = domain is not null ? state.Platform.Iommu(domain.Iommu)
                  : config?.Iommu is int i ? state.Platform.Iommu(i) : null;
        ulong dmaLimit = Limit(device.DmaMask, device.BusDmaLimit);
        ulong coherentLimit = Limit(device.CoherentMask, device.BusDmaLimit);
        var windows = new List<DmaWindow>();
        string path;

        if (config?.BypassesIommu == true && (domain is null || domain.Type == DomainType.Identity))
        {
            path = "bypasses the IOMMU (virtio without ACCESS_PLATFORM): dma = phys";
            windows.Add(new DmaWindow("bypass", new AddrRange(0, dmaLimit), "dma = phys"));
        }
        else if (domain is null)
        {
            path = "no IOMMU (dma-direct): dma = phys when below the DMA limit, else bounced through swiotlb";
            windows.Add(new DmaWindow("bypass", new AddrRange(0, dmaLimit), "dma = phys"));
            if (state.Platform.SwiotlbPool is { } pool)
                windows.Add(new DmaWindow("swiotlb", pool, "bounce pool (physical)"));
        }
        else if (domain.Type == DomainType.Blocked)
        {
            path = $"domain {domain.Id} is blocked: every DMA faults";
        }
        else if (domain.Type == DomainType.Identity)
        {
            path = $"identity domain {domain.Id}: dma = phys";
            windows.Add(new DmaWindow("bypass", new AddrRange(0, dmaLimit), "dma = phys"));
        }
        else if (iommu?.Gart is { } gart)
        {
            path = $"GART: remapped inside the aperture, bypassed 1:1 below the DMA limit outside it";
            if (gart.Aperture.Start > 0)
                windows.Add(new DmaWindow("bypass", new AddrRange(0, Math.Min(gart.Aperture.Start - 1, dmaLimit)), "dma = phys"));
            windows.Add(new DmaWindow("aperture", gart.Aperture, "GART aperture: always remapped; unmapped pages abort"));
            if (gart.Aperture.Last < dmaLimit)
                windows.Add(new DmaWindow("bypass", new AddrRange(gart.Aperture.Last + 1, dmaLimit), "dma = phys"));
        }
        else if (iommu?.Tce is { } tce)
        {
            windows.Add(new DmaWindow("tce", tce.DefaultWindow, "default 32-bit window, mapped through 4 KiB TCEs"));
            if (device.DdwActive && tce.DirectLimit > tce.DdwOffset)
            {
                path = "TCE with a direct dynamic DMA window: buffers ending below its limit are direct, the rest TCE-mapped";
                windows.Add(new DmaWindow("ddw", new AddrRange(tce.DdwOffset, tce.DirectLimit - 1),
                    $"DDW direct window: dma = phys + {Hex.Format(tce.DdwOffset)} for buffers ending below {Hex.Format(tce.DirectLimit)}"));
            }
            else
            {
                path = "TCE: every DMA address is mapped through the default window (no dynamic DMA window)";
            }
        }
        else
        {
            path = $"translated by domain {domain.Id} ({TypeName(domain.Type)}): no bypass";
        }

        var mappings = state.MappingsOf(device.Id).Select((m, i) => new MappingView(i, m)).ToList();
        return new DeviceView(device.Id, config?.Name ?? "", config, device, domain, dmaLimit, coherentLimit, path, windows, mappings);
    }

    internal static ulong Limit(ulong mask, ulong busLimit) => busLimit == 0 ? mask : Math.Min(mask, busLimit);

    internal static string TypeName(DomainType type) => type switch
    {
        DomainType.Dma => "DMA, strict",
        DomainType.DmaFq => "DMA-FQ, lazy",
        DomainType.Identity => "identity",
        DomainType.Blocked => "blocked",
        _ => "unmanaged",
    };
}
