using DmaVerify.Contracts;

namespace DmaVerify.Model;

public static partial class InvariantChecker
{
    /// <summary>INV-05: every part of every mapping lies within the DMA limit that applied at
    /// map time (mask, coherent mask, bus limit), without wrap-around; translated parts lie
    /// within their domain's aperture. A part naming a missing domain is left to INV-07.</summary>
    private static void CheckLimits(CheckContext c, List<Violation> output)
    {
        foreach (var m in c.Mappings)
        {
            foreach (var part in c.PartsOf(m))
            {
                if (!CheckContext.TryRange(part.Dma, part.Length, out var range))
                {
                    output.Add(new Violation(Inv05, m.Device, null,
                        $"mapping {m.Id}: part {Hex.Format(part.Dma)}+{Hex.Format(part.Length)} is empty or wraps past 2^64"));
                    continue;
                }
                if (range.Last > m.Limit)
                    output.Add(new Violation(Inv05, m.Device, range,
                        $"mapping {m.Id}: part {range} ends above the DMA limit {Hex.Format(m.Limit)} it was mapped under"));
                if (!part.IsBypass && c.Domain(part.Domain) is { } domain && !domain.Aperture.Contains(range))
                    output.Add(new Violation(Inv05, m.Device, range,
                        $"mapping {m.Id}: part {range} is outside the aperture {domain.Aperture} of domain {domain.Id}"));
            }
        }
    }
}
