using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Pictures.Svg;

/// <summary>Which panel a violation is drawn in: a domain's, or the one of devices without a domain.</summary>
internal readonly record struct PanelKey(int? DomainId)
{
    public static PanelKey Domain(int id) => new(id);
    public static readonly PanelKey Unattached = new(null);
}

/// <summary>
/// Groups the violations (<see cref="ViolationGroup"/>, numbered V1, V2, … in the order given)
/// and decides where each one with a range is drawn: in the panel of its device's domain (or
/// of the devices without one). A violation that names no device goes to the domains that
/// hold something of their own there (an allocation, a page-table leaf, a flush-queue entry);
/// failing that, to those where anything drawn overlaps it (a platform region); failing that,
/// to those whose aperture holds it. The rest are only listed.
/// </summary>
internal sealed class ViolationPlacement
{
    private readonly Dictionary<PanelKey, List<ViolationGroup>> _byPanel = [];

    public IReadOnlyList<ViolationGroup> All { get; }

    /// <summary>For each group number, the panels it is drawn in (empty: listed only).</summary>
    public IReadOnlyDictionary<int, IReadOnlyList<PanelKey>> PlacesOf { get; }

    public ViolationPlacement(IovaSpaceView view, IEnumerable<Violation> violations)
    {
        All = ViolationGroup.Group(violations);
        var places = new Dictionary<int, IReadOnlyList<PanelKey>>();
        foreach (var v in All)
        {
            var keys = v.Range is AddrRange r ? Place(view, v.First.Device, r) : [];
            places[v.Number] = keys;
            foreach (var key in keys)
            {
                if (!_byPanel.TryGetValue(key, out var list)) _byPanel[key] = list = [];
                list.Add(v);
            }
        }
        PlacesOf = places;
    }

    public IReadOnlyList<ViolationGroup> In(PanelKey key) => _byPanel.TryGetValue(key, out var list) ? list : [];

    private static List<PanelKey> Place(IovaSpaceView view, int? device, AddrRange range)
    {
        if (device is int id)
        {
            if (view.Domains.FirstOrDefault(d => d.Devices.Any(x => x.Id == id)) is { } domain)
                return [PanelKey.Domain(domain.Domain.Id)];
            if (view.Unattached.Any(x => x.Id == id))
                return [PanelKey.Unattached];
        }
        var tiers = new Func<DomainView, bool>[]
        {
            d => HoldsSomethingAt(d.Domain, range),
            d => d.Spans.Any(s => s.Kind != SpanKind.Free && s.Range.Overlaps(range)),
            d => d.Domain.Aperture.Overlaps(range),
        };
        foreach (var tier in tiers)
        {
            var keys = view.Domains.Where(tier).Select(d => PanelKey.Domain(d.Domain.Id)).ToList();
            if (keys.Count > 0) return keys;
        }
        return [];
    }

    private static bool HoldsSomethingAt(DomainState domain, AddrRange range) =>
        domain.Allocations.Any(a => a.Range.Overlaps(range))
        || domain.FlushQueue.Any(e => e.Iova.Overlaps(range))
        || domain.Leaves.Values.Any(l => AddrRange.TryFromLength(l.Iova, l.Size, out var r) && r.Overlaps(range));
}
