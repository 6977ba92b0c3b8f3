using DmaVerify.Model;

namespace DmaVerify.Cli.Show.Svg;

/// <summary>Which panel a violation is drawn in: a domain's, or the one of devices without a domain.</summary>
internal readonly record struct PanelKey(int? DomainId)
{
    public static PanelKey Domain(int id) => new(id);
    public static readonly PanelKey Unattached = new(null);
}

/// <summary>
/// Numbers the violations (V1, V2, … in the order given) and decides where each one with a range
/// is drawn: in the panel of its device's domain (or of the devices without one); a violation
/// that names no device goes to every domain where something drawn overlaps its range, or, when
/// nothing does, to the domains whose aperture holds it. Violations without a range, or whose
/// place cannot be found, are only listed.
/// </summary>
internal sealed class ViolationPlacement
{
    private readonly Dictionary<PanelKey, List<NumberedViolation>> _byPanel = [];

    public IReadOnlyList<NumberedViolation> All { get; }

    /// <summary>For each numbered violation, the panels it is drawn in (empty: listed only).</summary>
    public IReadOnlyDictionary<int, IReadOnlyList<PanelKey>> PlacesOf { get; }

    public ViolationPlacement(IovaSpaceView view, IEnumerable<Violation> violations)
    {
        All = violations.Select((v, i) => new NumberedViolation(i + 1, v)).ToList();
        var places = new Dictionary<int, IReadOnlyList<PanelKey>>();
        foreach (var v in All)
        {
            var keys = v.Violation.Range is AddrRange r ? Place(view, v.Violation.Device, r) : [];
            places[v.Number] = keys;
            foreach (var key in keys)
            {
                if (!_byPanel.TryGetValue(key, out var list)) _byPanel[key] = list = [];
                list.Add(v);
            }
        }
        PlacesOf = places;
    }

    public IReadOnlyList<NumberedViolation> In(PanelKey key) => _byPanel.TryGetValue(key, out var list) ? list : [];

    private static List<PanelKey> Place(IovaSpaceView view, int? device, AddrRange range)
    {
        if (device is int id)
        {
            if (view.Domains.FirstOrDefault(d => d.Devices.Any(x => x.Id == id)) is { } domain)
                return [PanelKey.Domain(domain.Domain.Id)];
            if (view.Unattached.Any(x => x.Id == id))
                return [PanelKey.Unattached];
        }
        var touched = view.Domains
            .Where(d => d.Spans.Any(s => s.Kind != SpanKind.Free && s.Range.Overlaps(range)))
            .Select(d => PanelKey.Domain(d.Domain.Id)).ToList();
        if (touched.Count > 0) return touched;
        return view.Domains.Where(d => d.Domain.Aperture.Overlaps(range)).Select(d => PanelKey.Domain(d.Domain.Id)).ToList();
    }
}
