using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>
/// Readable differences between two <see cref="SystemState"/>s, used to check that a failed
/// or refused op changed nothing (INV-10, INV-15) and to show what did change. Devices,
/// domains, mappings and bounce slots are matched by id; lists inside a domain (allocations,
/// reserved ranges, IOTLB, flush queue, MSI pages) are compared as multisets, leaves by IOVA;
/// the order of live mappings is compared too (it is what LiveRef handles index).
/// Never throws: null collections read as empty and null items as "null".
/// </summary>
public static class StateDiff
{
    public static IReadOnlyList<string> Differences(SystemState a, SystemState b) => Differences(a, b, allowPci32FirstCleared: false);

    internal static IReadOnlyList<string> Differences(SystemState a, SystemState b, bool allowPci32FirstCleared)
    {
        var diffs = new List<string>();
        if (a is null || b is null)
        {
            if (a is null != b is null) diffs.Add(a is null ? "state: none → present" : "state: present → none");
            return diffs;
        }
        try
        {
            Compare(a, b, allowPci32FirstCleared, diffs);
        }
        catch (Exception e)
        {
            diffs.Add($"the states could not be compared ({e.GetType().Name}: {e.Message})");
        }
        return diffs;
    }

    private static void Compare(SystemState a, SystemState b, bool allowPci32FirstCleared, List<string> diffs)
    {
        if (!ReferenceEquals(a.Platform, b.Platform) && !Equals(a.Platform, b.Platform))
            diffs.Add($"platform: {a.Platform?.Preset ?? "none"} → {b.Platform?.Preset ?? "none"} (a different platform object)");
        Field(diffs, "time (ms)", a.NowMs, b.NowMs);

        Keyed(diffs, "device", a.Devices, b.Devices, d => d.Id, (x, y, where) =>
        {
            Field(diffs, $"{where} dma mask", Hex.Format(x.DmaMask), Hex.Format(y.DmaMask));
            Field(diffs, $"{where} coherent mask", Hex.Format(x.CoherentMask), Hex.Format(y.CoherentMask));
            Field(diffs, $"{where} bus DMA limit", Hex.Format(x.BusDmaLimit), Hex.Format(y.BusDmaLimit));
            Field(diffs, $"{where} domain", Show(x.Domain), Show(y.Domain));
            if (!(allowPci32FirstCleared && x.Pci32First && !y.Pci32First))
                Field(diffs, $"{where} 32-bit-first", x.Pci32First, y.Pci32First);
            Field(diffs, $"{where} DDW active", x.DdwActive, y.DdwActive);
        });

        Keyed(diffs, "domain", a.Domains, b.Domains, d => d.Id, (x, y, where) => CompareDomain(diffs, x, y, where));

        Keyed(diffs, "mapping", a.Mappings, b.Mappings, m => m.Id, (x, y, where) => CompareMapping(diffs, x, y, where));
        var idsA = (a.Mappings ?? []).Where(m => m is not null).Select(m => m.Id).ToList();
        var idsB = (b.Mappings ?? []).Where(m => m is not null).Select(m => m.Id).ToList();
        var common = idsA.Intersect(idsB).ToHashSet();
        var orderA = idsA.Where(common.Contains).ToList();
        var orderB = idsB.Where(common.Contains).ToList();
        if (!orderA.SequenceEqual(orderB))
            diffs.Add($"mapping order: [{string.Join(", ", orderA)}] → [{string.Join(", ", orderB)}]");

        Keyed(diffs, "bounce slot", a.Bounces, b.Bounces, s => s.Id, (x, y, where) => Field(diffs, where, Format(x), Format(y)));
    }

    private static void CompareDomain(List<string> diffs, DomainState x, DomainState y, string where)
    {
        Field(diffs, $"{where} IOMMU", x.Iommu, y.Iommu);
        Field(diffs, $"{where} type", x.Type, y.Type);
        if (!Equals(x.Format, y.Format))
            diffs.Add($"{where} format: {x.Format?.Describe() ?? "none"} → {y.Format?.Describe() ?? "none"}");
        Field(diffs, $"{where} aperture", x.Aperture, y.Aperture);
        Field(diffs, $"{where} force aperture", x.ForceAperture, y.ForceAperture);
        Field(diffs, $"{where} IOVA policy", x.Policy, y.Policy);
        Field(diffs, $"{where} lowest IOVA", Hex.Format(x.AllocStart), Hex.Format(y.AllocStart));
        Field(diffs, $"{where} default", x.IsDefault, y.IsDefault);
        Multiset(diffs, $"{where} allocation", x.Allocations, y.Allocations, al => $"{al.Owner} {al.Range}");
        Multiset(diffs, $"{where} reserved", x.Reserved, y.Reserved, r => $"{r.Range} ({r.Reason})");
        Multiset(diffs, $"{where} leaf", x.Leaves?.Select(p => p.Value), y.Leaves?.Select(p => p.Value), l => l.ToString());
        Multiset(diffs, $"{where} IOTLB entry", x.Iotlb, y.Iotlb, Format);
        Multiset(diffs, $"{where} flush-queue entry", x.FlushQueue, y.FlushQueue, e => $"{e.Iova} counter {e.Counter}");
        Field(diffs, $"{where} flushes started", x.FlushStarted, y.FlushStarted);
        Field(diffs, $"{where} flushes finished", x.FlushFinished, y.FlushFinished);
        Field(diffs, $"{where} flush timer", Show(x.TimerDeadline), Show(y.TimerDeadline));
        Multiset(diffs, $"{where} MSI page", x.MsiPages, y.MsiPages, p => $"doorbell {Hex.Format(p.DoorbellPage)} at {Hex.Format(p.Iova)}");
        Field(diffs, $"{where} MSI bump", Hex.Format(x.MsiBump), Hex.Format(y.MsiBump));
        Field(diffs, $"{where} table pages", Show(x.TablePages), Show(y.TablePages));
        Field(diffs, $"{where} table pages pending free", Show(x.PendingFreeTablePages), Show(y.PendingFreeTablePages));
    }

    private static void CompareMapping(List<string> diffs, DmaMapping x, DmaMapping y, string where)
    {
        Field(diffs, $"{where} device", x.Device, y.Device);
        Field(diffs, $"{where} kind", x.Kind, y.Kind);
        Field(diffs, $"{where} handle", x.Dma, y.Dma);
        Field(diffs, $"{where} size", Hex.Format(x.Size), Hex.Format(y.Size));
        Field(diffs, $"{where} direction", x.Direction, y.Direction);
        Field(diffs, $"{where} phys", x.Phys, y.Phys);
        Field(diffs, $"{where} nents", x.Nents, y.Nents);
        Field(diffs, $"{where} limit", Hex.Format(x.Limit), Hex.Format(y.Limit));
        Field(diffs, $"{where} untrusted", x.UntrustedDevice, y.UntrustedDevice);
        SeqField(diffs, $"{where} inputs", x.Inputs, y.Inputs, e => e.ToString());
        SeqField(diffs, $"{where} segments", x.Segments, y.Segments, s => s.ToString());
        SeqField(diffs, $"{where} parts", x.Parts, y.Parts, Format);
        Field(diffs, $"{where} max segment size", Hex.Format(x.MaxSegmentSize), Hex.Format(y.MaxSegmentSize));
        Field(diffs, $"{where} segment boundary", Hex.Format(x.SegmentBoundaryMask), Hex.Format(y.SegmentBoundaryMask));
    }

    private static void Field<T>(List<string> diffs, string what, T x, T y)
    {
        if (!EqualityComparer<T>.Default.Equals(x, y))
            diffs.Add($"{what}: {x} → {y}");
    }

    /// <summary>Items matched by id: removed, added, and changed ones (duplicate ids are
    /// matched in order and their counts reported).</summary>
    private static void Keyed<T>(List<string> diffs, string noun, IEnumerable<T?>? xs, IEnumerable<T?>? ys,
        Func<T, int> id, Action<T, T, string> compare) where T : class
    {
        var left = (xs ?? []).Where(i => i is not null).Select(i => i!).GroupBy(id).ToDictionary(g => g.Key, g => g.ToList());
        var right = (ys ?? []).Where(i => i is not null).Select(i => i!).GroupBy(id).ToDictionary(g => g.Key, g => g.ToList());
        foreach (int key in left.Keys.Union(right.Keys).Order())
        {
            var l = left.GetValueOrDefault(key) ?? [];
            var r = right.GetValueOrDefault(key) ?? [];
            if (r.Count == 0) { diffs.Add($"{noun} {key} removed"); continue; }
            if (l.Count == 0) { diffs.Add($"{noun} {key} added"); continue; }
            if (l.Count != r.Count) diffs.Add($"{noun} {key}: {l.Count} with this id → {r.Count}");
            for (int i = 0; i < Math.Min(l.Count, r.Count); i++)
                compare(l[i], r[i], $"{noun} {key}:");
        }
    }

    /// <summary>Ordered lists compared by element equality; formatted only when they differ.</summary>
    private static void SeqField<T>(List<string> diffs, string what, IEnumerable<T?>? xs, IEnumerable<T?>? ys, Func<T, string> format) where T : class
    {
        if (SameSequence(xs, ys)) return;
        diffs.Add($"{what}: {Seq(xs, format)} → {Seq(ys, format)}");
    }

    private static bool SameSequence<T>(IEnumerable<T?>? xs, IEnumerable<T?>? ys) where T : class =>
        ReferenceEquals(xs, ys) || (xs ?? []).SequenceEqual(ys ?? []);

    private static void Multiset<T>(List<string> diffs, string noun, IEnumerable<T?>? xs, IEnumerable<T?>? ys, Func<T, string> format) where T : class
    {
        if (SameSequence(xs, ys)) return; // the common case: nothing changed, nothing formatted
        var counts = new Dictionary<string, int>();
        foreach (var x in xs ?? []) { string k = x is null ? "null" : format(x); counts[k] = counts.GetValueOrDefault(k) + 1; }
        foreach (var y in ys ?? []) { string k = y is null ? "null" : format(y); counts[k] = counts.GetValueOrDefault(k) - 1; }
        foreach (var (item, n) in counts.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (n > 0) diffs.Add($"{noun} removed: {item}" + (n > 1 ? $" (×{n})" : ""));
            else if (n < 0) diffs.Add($"{noun} added: {item}" + (n < -1 ? $" (×{-n})" : ""));
        }
    }

    private static string Seq<T>(IEnumerable<T?>? items, Func<T, string> format) where T : class =>
        "[" + string.Join(", ", (items ?? []).Select(i => i is null ? "null" : format(i))) + "]";

    private static string Show<T>(T? value) where T : struct => value?.ToString() ?? "none";

    private static string Format(IotlbEntry e) =>
        $"iommu {e.Iommu} {Hex.Format(e.Iova)}->{Hex.Format(e.Phys)}+{Hex.Format(e.Size)} {e.Prot}";

    private static string Format(MappingPart p) =>
        $"{Hex.Format(p.Dma)}+{Hex.Format(p.Length)}->{Hex.Format(p.Phys)}" +
        (p.Domain is int d ? $" domain {d}" : " bypass") +
        (p.Allocation is AddrRange a ? $" in {a}" : "") +
        (p.Bounce is int s ? $" bounce {s}" : "");

    private static string Format(BounceSlot s) =>
        $"device {s.Device} slot {s.Slot} orig {Hex.Format(s.OrigPhys)} copy {Hex.Format(s.BufferPhys)}+{Hex.Format(s.Length)}" +
        (s.PaddingZeroed ? " zeroed" : " not zeroed");
}
