using DmaVerify.Contracts;

namespace DmaVerify.Model;

public static partial class InvariantChecker
{
    /// <summary>
    /// INV-11: allocation is complete. A Map, MapSg, AllocCoherent, MapResource or SetupMsi that
    /// fails with OutOfIova must have had no allowed IOVA range in `before` (IovaSpace rules:
    /// alignment policy, AllocStart, aperture, occupied ranges). The request: the device's
    /// domain (DMA-API domains only; other domains do not use the IOVA allocator);
    /// length = granule-rounded (phys mod granule + len); limit = min(mask — the coherent mask
    /// for AllocCoherent —, bus limit if non-zero, aperture end if ForceAperture); boundary =
    /// the device's segment boundary for page-granular (GART/TCE) allocators.
    /// MapSg is approximated by one request: for dma-iommu the granule-rounded segment lengths
    /// with Linux's boundary padding (iommu_dma_map_sg phase A); for page-granular allocators
    /// the plain sum (an over-estimate when bypassed segments need no IOVA); for untrusted
    /// devices, which map each segment on its own, the segments are placed one after the other
    /// with the default fit. SetupMsi needs one granule, none when the doorbell lies in a
    /// hardware MSI window or already has an MSI page.
    /// </summary>
    private static void CheckCompleteness(CheckContext before, Op op, Outcome outcome, List<Violation> output)
    {
        if (outcome is not Failed { Kind: DmaErrorKind.OutOfIova }) return;
        int device;
        bool coherent = false;
        List<(ulong Phys, ulong Length)> pieces;
        switch (op)
        {
            case Map m: device = m.Device; pieces = [(m.Phys.Value, m.Length)]; break;
            case MapResource r: device = r.Device; pieces = [(r.Phys.Value, r.Length)]; break;
            case AllocCoherent a: device = a.Device; coherent = true; pieces = [(a.Phys.Value, a.Size)]; break;
            case MapSg s: device = s.Device; pieces = CheckContext.NonNull(s.Segments).Select(e => (e.Phys.Value, e.Length)).ToList(); break;
            case SetupMsi msi: CheckMsiCompleteness(before, msi, output); return;
            default: return;
        }
        var dev = before.Device(device);
        var domain = before.Domain(dev?.Domain);
        if (dev is null || domain is null || !domain.IsDmaApi) return;
        ulong granule = CheckContext.Granule(domain);
        if (granule == 0) return;

        var lengths = new List<ulong>();
        foreach (var (phys, len) in pieces)
        {
            if (len == 0) continue;
            if (RoundedLength(phys, len, granule) is not ulong rounded) return; // overflow: not an IOVA question
            lengths.Add(rounded);
        }
        if (lengths.Count == 0) return;

        var config = before.Config(device);
        ulong limit = RequestLimit(dev, domain, coherent);
        ulong boundary = domain.Policy == IovaPolicy.PageGranular ? config?.SegmentBoundaryMask ?? ulong.MaxValue : ulong.MaxValue;

        if (op is MapSg && config is { Untrusted: true } && domain.Policy == IovaPolicy.SizeAligned)
        {
            // One allocation per segment, placed one after the other with the default fit.
            var scratch = domain.Clone();
            var fits = new List<AddrRange>();
            foreach (ulong len in lengths)
            {
                var segmentRequest = IovaSpace.RequestFor(scratch, len, limit, boundary);
                if (segmentRequest.Alignment == 0) return; // too large to align: cannot fit
                if (IovaSpace.DefaultFit(scratch, segmentRequest) is not AddrRange r) return;
                fits.Add(r);
                scratch.Allocations.Add(new IovaAllocation(r, AllocationOwner.Mapping));
            }
            output.Add(new Violation(Inv11, device, fits[0],
                $"{op.GetType().Name} failed with OutOfIova, but its {lengths.Count} segments fit at {string.Join(", ", fits)} below {Hex.Format(limit)} in domain {domain.Id}"));
            return;
        }

        ulong? total = op is MapSg && domain.Policy == IovaPolicy.SizeAligned
            ? PaddedSgLength(lengths, config?.SegmentBoundaryMask ?? ulong.MaxValue)
            : Sum(lengths);
        if (total is not ulong bytes) return;
        var request = IovaSpace.RequestFor(domain, bytes, limit, boundary);
        if (request.Bytes == 0 || request.Alignment == 0) return; // power-of-two alignment overflowed: cannot fit
        if (IovaSpace.DefaultFit(domain, request) is AddrRange existing)
            output.Add(new Violation(Inv11, device, existing,
                $"{op.GetType().Name} failed with OutOfIova, but {existing} satisfies the request ({request}) in domain {domain.Id}"));
    }

    private static void CheckMsiCompleteness(CheckContext before, SetupMsi msi, List<Violation> output)
    {
        var dev = before.Device(msi.Device);
        var domain = before.Domain(dev?.Domain);
        if (dev is null || domain is null || !domain.IsDmaApi) return;
        ulong granule = CheckContext.Granule(domain);
        if (granule == 0) return;
        ulong doorbell = msi.Doorbell.Value;
        ulong page = doorbell & ~(granule - 1);
        if (before.RegionsOf(domain).Any(r => r.Type == ReservedRegionType.Msi && r.Range.Contains(doorbell)))
        {
            output.Add(new Violation(Inv11, msi.Device, null,
                $"SetupMsi failed with OutOfIova, but doorbell {msi.Doorbell} lies in a hardware MSI window and needs no IOVA"));
            return;
        }
        if (CheckContext.NonNull(domain.MsiPages).Any(p => p.DoorbellPage == page))
        {
            output.Add(new Violation(Inv11, msi.Device, null,
                $"SetupMsi failed with OutOfIova, but doorbell page {Hex.Format(page)} is already mapped in domain {domain.Id}"));
            return;
        }
        var request = IovaSpace.RequestFor(domain, granule, RequestLimit(dev, domain, coherent: false), ulong.MaxValue);
        if (IovaSpace.DefaultFit(domain, request) is AddrRange existing)
            output.Add(new Violation(Inv11, msi.Device, existing,
                $"SetupMsi failed with OutOfIova, but {existing} satisfies the request ({request}) in domain {domain.Id}"));
    }

    /// <summary>min(mask, bus limit if non-zero, aperture end if ForceAperture).</summary>
    private static ulong RequestLimit(DeviceState dev, DomainState domain, bool coherent)
    {
        ulong limit = coherent ? dev.CoherentMask : dev.DmaMask;
        if (dev.BusDmaLimit != 0) limit = Math.Min(limit, dev.BusDmaLimit);
        if (domain.ForceAperture) limit = Math.Min(limit, domain.Aperture.Last);
        return limit;
    }

    /// <summary>align_up(phys mod granule + len, granule), or null on overflow.</summary>
    private static ulong? RoundedLength(ulong phys, ulong len, ulong granule)
    {
        UInt128 raw = (UInt128)(phys & (granule - 1)) + len;
        UInt128 rounded = (raw + (granule - 1)) / granule * granule;
        return rounded > ulong.MaxValue ? null : (ulong)rounded;
    }

    private static ulong? Sum(List<ulong> lengths)
    {
        UInt128 total = 0;
        foreach (ulong l in lengths) total += l;
        return total > ulong.MaxValue ? null : (ulong)total;
    }

    /// <summary>iommu_dma_map_sg phase A: granule-rounded lengths laid out back to back, with
    /// padding wherever a segment would otherwise straddle a boundary of mask + 1.</summary>
    private static ulong? PaddedSgLength(List<ulong> lengths, ulong mask)
    {
        UInt128 total = 0;
        foreach (ulong l in lengths)
        {
            ulong pad = unchecked((mask - (ulong)total + 1) & mask);
            if (pad != 0 && pad < l - 1) total += pad;
            total += l;
            if (total > ulong.MaxValue) return null;
        }
        return (ulong)total;
    }
}
