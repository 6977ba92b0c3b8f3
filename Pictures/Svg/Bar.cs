using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Pictures.Svg;

/// <summary>One drawn range: its swatch, a short name for inside the bar ("dev 0 #1 sg"), and
/// the full description for the key table. <see cref="Tag"/> ("A3") links bar and key row.</summary>
internal sealed record Bar(AddrRange Range, Swatch Swatch, string Kind, string Short, string Detail)
{
    public string Tag { get; init; } = "";

    /// <summary>Whether the bar is something placed in the IOVA space (a region, an allocation,
    /// a flush-queue entry), outlined in red where a violation overlaps it. Containers (the
    /// aperture, a device's mask or window) are not: they would all light up.</summary>
    public bool Occupant { get; init; }
}

/// <summary>A labelled band of the picture (allocations, regions, one device's windows); its
/// bars are packed onto as many rows as their overlaps need.</summary>
internal sealed record Lane(string Label, IReadOnlyList<Bar> Bars);

/// <summary>One IOVA space (a domain, or the devices without one) ready to draw: a heading,
/// lanes on one address axis, and the violations whose ranges fall in it.</summary>
internal sealed record Panel(string Heading, string Subheading, IReadOnlyList<Lane> Lanes, IReadOnlyList<ViolationGroup> Violations)
{
    public IEnumerable<AddrRange> Ranges =>
        Lanes.SelectMany(l => l.Bars).Select(b => b.Range).Concat(Violations.Select(v => v.Range!.Value));
}
