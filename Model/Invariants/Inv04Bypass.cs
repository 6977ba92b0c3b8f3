using DmaVerify.Contracts;

namespace DmaVerify.Model;

public static partial class InvariantChecker
{
    /// <summary>INV-04: every bypass part (no domain) satisfies dma + len − 1 ≤ the mapping's
    /// limit without wrap-around (dma_capable), lies outside every GART aperture of the
    /// platform (inside it a bus address is always remapped), and, on TCE platforms, a part in
    /// the dynamic DMA window ends at or below the window's direct limit.</summary>
    private static void CheckBypass(CheckContext c, List<Violation> output)
    {
        var apertures = c.Iommus.Where(i => i.Gart is not null).Select(i => i.Gart!.Aperture).ToList();
        var tces = c.Iommus.Where(i => i.Tce is not null).Select(i => i.Tce!).ToList();
        foreach (var m in c.Mappings)
        {
            foreach (var part in c.PartsOf(m))
            {
                if (!part.IsBypass) continue;
                if (!CheckContext.TryRange(part.Dma, part.Length, out var range))
                {
                    output.Add(new Violation(Inv04, m.Device, null,
                        $"mapping {m.Id}: bypass part {Hex.Format(part.Dma)}+{Hex.Format(part.Length)} is empty or wraps past 2^64"));
                    continue;
                }
                if (range.Last > m.Limit)
                    output.Add(new Violation(Inv04, m.Device, range,
                        $"mapping {m.Id}: bypass part {range} ends above the DMA limit {Hex.Format(m.Limit)} it was mapped under"));
                foreach (var aperture in apertures)
                    if (range.Overlaps(aperture))
                        output.Add(new Violation(Inv04, m.Device, range.Intersect(aperture),
                            $"mapping {m.Id}: bypass part {range} lies in the GART aperture {aperture}, where bus addresses are remapped"));
                foreach (var tce in tces)
                {
                    UInt128 limit = DirectLimit(tce);
                    if (part.Dma >= tce.DdwOffset && range.End > limit)
                        output.Add(new Violation(Inv04, m.Device, range,
                            $"mapping {m.Id}: bypass part {range} in the dynamic DMA window ends above its direct limit {Hex.Format(limit)}"));
                }
            }
        }
    }

    /// <summary>DdwOffset + 2^DdwDirectBits without overflow (the config's DirectLimit wraps
    /// for absurd widths).</summary>
    internal static UInt128 DirectLimit(TceConfig tce) =>
        (UInt128)tce.DdwOffset + ((UInt128)1 << Math.Clamp(tce.DdwDirectBits, 0, 64));
}
