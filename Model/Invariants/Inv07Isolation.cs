using DmaVerify.Contracts;

namespace DmaVerify.Model;

public static partial class InvariantChecker
{
    /// <summary>
    /// INV-07: domain isolation. Ids are unique and every reference resolves (a mapping's
    /// device, a part's domain, a device's domain, a domain's IOMMUs); a translated part names
    /// the domain its device is attached to; a device without an IOMMU is attached to nothing;
    /// all IOMMUs walking one domain use one page-table format; IOTLB entries of a domain only
    /// sit in IOMMUs of that domain (its creator or the IOMMU of an attached device).
    /// </summary>
    private static void CheckIsolation(CheckContext c, List<Violation> output)
    {
        foreach (var dup in c.Domains.GroupBy(d => d.Id).Where(g => g.Count() > 1))
            output.Add(new Violation(Inv07, null, null, $"{dup.Count()} domains share id {dup.Key}"));
        foreach (var dup in c.Devices.GroupBy(d => d.Id).Where(g => g.Count() > 1))
            output.Add(new Violation(Inv07, dup.Key, null, $"{dup.Count()} device states share id {dup.Key}"));

        foreach (var dev in c.Devices)
        {
            var config = c.Config(dev.Id);
            if (config is null && c.HasPlatform)
                output.Add(new Violation(Inv07, dev.Id, null, $"device {dev.Id} is not a device of platform '{c.Platform.Preset}'"));
            if (dev.Domain is not int domainId) continue;
            if (c.Domain(domainId) is null)
                output.Add(new Violation(Inv07, dev.Id, null, $"device {dev.Id} is attached to domain {domainId}, which does not exist"));
            if (config is { Iommu: null })
                output.Add(new Violation(Inv07, dev.Id, null, $"device {dev.Id} sits behind no IOMMU but is attached to domain {domainId}"));
        }

        foreach (var domain in c.JudgedDomains)
        {
            var iommus = c.IommusOf(domain);
            var known = new List<IommuConfig>();
            foreach (int id in iommus)
            {
                if (c.Iommu(id) is { } iommu) known.Add(iommu);
                else if (c.HasPlatform)
                    output.Add(new Violation(Inv07, null, null, $"domain {domain.Id} is walked by IOMMU {id}, which platform '{c.Platform.Preset}' does not have"));
            }
            foreach (var other in known.Skip(1))
                if (!Equals(other.Format, known[0].Format))
                    output.Add(new Violation(Inv07, null, null,
                        $"domain {domain.Id} is shared by IOMMU {known[0].Id} ({known[0].Format?.Describe()}) and IOMMU {other.Id} ({other.Format?.Describe()}), whose page-table formats differ"));
            foreach (var entry in CheckContext.NonNull(domain.Iotlb))
                if (!iommus.Contains(entry.Iommu))
                    output.Add(new Violation(Inv07, null, CheckContext.TryRange(entry.Iova, entry.Size, out var r) ? r : null,
                        $"domain {domain.Id}: IOTLB of IOMMU {entry.Iommu} caches {Hex.Format(entry.Iova)}->{Hex.Format(entry.Phys)}, but that IOMMU has no device in the domain (IOMMUs: {string.Join(", ", iommus)})"));
        }

        foreach (var m in c.Mappings)
        {
            var dev = c.Device(m.Device);
            if (dev is null)
            {
                output.Add(new Violation(Inv07, m.Device, null, $"mapping {m.Id} belongs to device {m.Device}, which does not exist"));
                continue;
            }
            foreach (var part in c.PartsOf(m))
            {
                if (part.Domain is not int domainId) continue;
                var range = CheckContext.TryRange(part.Dma, part.Length, out var r) ? r : (AddrRange?)null;
                if (c.Domain(domainId) is null)
                    output.Add(new Violation(Inv07, m.Device, range, $"mapping {m.Id}: part {CheckContext.Describe(range)} names domain {domainId}, which does not exist"));
                else if (dev.Domain != domainId)
                    output.Add(new Violation(Inv07, m.Device, range,
                        $"mapping {m.Id}: part {CheckContext.Describe(range)} is translated by domain {domainId}, but device {m.Device} is attached to {(dev.Domain is int d ? $"domain {d}" : "no domain")}"));
            }
        }
    }
}
