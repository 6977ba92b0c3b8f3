using DmaVerify.Contracts;

namespace DmaVerify.Model;

public static partial class InvariantChecker
{
    /// <summary>INV-13: a virtio device without ACCESS_PLATFORM (it puts physical addresses on
    /// the bus) is never handed an address the IOMMU would translate: all its parts are bypass
    /// parts with dma == phys, and it is attached to no domain or an identity domain (a missing
    /// domain is INV-07's).</summary>
    private static void CheckVirtio(CheckContext c, List<Violation> output)
    {
        foreach (var dev in c.Devices)
        {
            if (c.Config(dev.Id) is not { BypassesIommu: true }) continue;
            if (c.Domain(dev.Domain) is { } domain && domain.Type != DomainType.Identity)
                output.Add(new Violation(Inv13, dev.Id, null,
                    $"device {dev.Id} uses physical addresses (virtio without ACCESS_PLATFORM) but is attached to {domain.Type} domain {domain.Id}, which translates them"));
            foreach (var m in c.MappingsOf(dev.Id))
                foreach (var part in c.PartsOf(m))
                {
                    var range = CheckContext.TryRange(part.Dma, part.Length, out var r) ? r : (AddrRange?)null;
                    if (!part.IsBypass)
                        output.Add(new Violation(Inv13, dev.Id, range,
                            $"mapping {m.Id}: device {dev.Id} bypasses the IOMMU but part {CheckContext.Describe(range)} is translated by domain {part.Domain}"));
                    else if (part.Dma != part.Phys)
                        output.Add(new Violation(Inv13, dev.Id, range,
                            $"mapping {m.Id}: device {dev.Id} uses physical addresses but part {CheckContext.Describe(range)} reaches phys {Hex.Format(part.Phys)}"));
                }
        }
    }
}
