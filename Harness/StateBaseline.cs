using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Harness;

/// <summary>
/// An exported state the full checker judged clean, kept so that a later export of the same
/// system needs its domain rules judged only for the domains that differ from it. A domain
/// counts as unchanged only when its whole content (allocations, reserved ranges, leaves, IOTLB,
/// flush queue, counters, MSI pages, table-page counts), the devices attached to it (their state
/// and configuration) and every mapping part that names it are as they were; every rule about
/// devices, mappings and bounce slots runs on the whole state regardless. So the verdict equals
/// the full checker's, at the cost of a comparison instead of a re-check of unchanged domains.
/// </summary>
public sealed class StateBaseline
{
    private readonly Dictionary<int, DomainState> _domains = [];
    private readonly Dictionary<int, List<DeviceState>> _devices = [];
    private readonly Dictionary<int, List<(int Mapping, MappingPart Part)>> _parts = [];

    private StateBaseline(SystemState state)
    {
        foreach (var d in state.Domains) _domains.TryAdd(d.Id, d);
        Index(state, _devices, _parts);
    }

    /// <summary>A baseline when the full checker finds <paramref name="state"/> clean; null
    /// (judge everything) when it does not, so its violations are never skipped.</summary>
    public static StateBaseline? Verified(SystemState state) =>
        InvariantChecker.Check(state).Count == 0 ? new StateBaseline(state) : null;

    /// <summary>The full checker's verdict on <paramref name="now"/>, judging domain rules only
    /// where the domain is not as in the baseline.</summary>
    public IReadOnlyList<Violation> Check(SystemState now) => InvariantChecker.Check(now, ChangedDomains(now));

    /// <summary>Judges <paramref name="now"/> against <paramref name="baseline"/> (everything when
    /// there is none) and returns the violations; when there are none, <paramref name="baseline"/>
    /// moves on to <paramref name="now"/>, so a run of checks judges each domain only when it
    /// changed since the last clean check.</summary>
    public static IReadOnlyList<Violation> CheckAndAdvance(ref StateBaseline? baseline, SystemState now)
    {
        var violations = baseline?.Check(now) ?? InvariantChecker.Check(now);
        if (violations.Count == 0) baseline = new StateBaseline(now);
        return violations;
    }

    /// <summary>Ids of the domains of <paramref name="now"/> that are not as in the baseline.</summary>
    public IReadOnlySet<int> ChangedDomains(SystemState now)
    {
        var devices = new Dictionary<int, List<DeviceState>>();
        var parts = new Dictionary<int, List<(int Mapping, MappingPart Part)>>();
        Index(now, devices, parts);
        var changed = new HashSet<int>();
        var seen = new HashSet<int>();
        foreach (var d in now.Domains ?? [])
        {
            if (d is null) continue;
            if (!seen.Add(d.Id) || !_domains.TryGetValue(d.Id, out var old) || !SameDomain(old, d) ||
                !SameList(_devices.GetValueOrDefault(d.Id), devices.GetValueOrDefault(d.Id), SameDevice) ||
                !SameList(_parts.GetValueOrDefault(d.Id), parts.GetValueOrDefault(d.Id), (x, y) => x.Mapping == y.Mapping && Equals(x.Part, y.Part)))
                changed.Add(d.Id);
        }
        return changed;
    }

    private static void Index(SystemState state, Dictionary<int, List<DeviceState>> devices, Dictionary<int, List<(int Mapping, MappingPart Part)>> parts)
    {
        foreach (var dev in state.Devices ?? [])
            if (dev?.Domain is int d)
                (devices.TryGetValue(d, out var list) ? list : devices[d] = []).Add(dev);
        foreach (var m in state.Mappings ?? [])
            foreach (var p in m?.Parts ?? [])
                if (p?.Domain is int d)
                    (parts.TryGetValue(d, out var list) ? list : parts[d] = []).Add((m!.Id, p));
    }

    private static bool SameDevice(DeviceState a, DeviceState b) =>
        a.Id == b.Id && a.DmaMask == b.DmaMask && a.CoherentMask == b.CoherentMask && a.BusDmaLimit == b.BusDmaLimit &&
        a.Domain == b.Domain && a.Pci32First == b.Pci32First && a.DdwActive == b.DdwActive;

    private static bool SameDomain(DomainState a, DomainState b) =>
        ReferenceEquals(a, b) ||
        (a.Iommu == b.Iommu && a.Type == b.Type && Equals(a.Format, b.Format) && a.Aperture == b.Aperture &&
         a.ForceAperture == b.ForceAperture && a.Policy == b.Policy && a.AllocStart == b.AllocStart && a.IsDefault == b.IsDefault &&
         a.FlushStarted == b.FlushStarted && a.FlushFinished == b.FlushFinished && a.TimerDeadline == b.TimerDeadline &&
         a.MsiBump == b.MsiBump && a.TablePages == b.TablePages && a.PendingFreeTablePages == b.PendingFreeTablePages &&
         SameList(a.Allocations, b.Allocations, Equals) && SameList(a.Reserved, b.Reserved, Equals) &&
         SameList(a.Leaves?.Values, b.Leaves?.Values, Equals) && SameList(a.Iotlb, b.Iotlb, Equals) &&
         SameList(a.FlushQueue, b.FlushQueue, Equals) && SameList(a.MsiPages, b.MsiPages, Equals) &&
         ReferenceEquals(a.Leaves?.Keys, b.Leaves?.Keys) | SameList(a.Leaves?.Keys, b.Leaves?.Keys, (x, y) => x == y));

    private static bool SameList<T>(IList<T>? a, IList<T>? b, Func<T, T, bool> same)
    {
        if (ReferenceEquals(a, b)) return true;
        if (a is null || b is null) return (a?.Count ?? 0) == 0 && (b?.Count ?? 0) == 0;
        if (a.Count != b.Count) return false;
        for (int i = 0; i < a.Count; i++)
            if (!same(a[i], b[i])) return false;
        return true;
    }
}
