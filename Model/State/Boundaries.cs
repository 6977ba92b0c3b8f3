using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>What an aimed value lands on, relative to the boundary it was derived from.</summary>
public enum AimKind : byte
{
    /// <summary>The largest map that still fits the gap the allocator fills next (repeated, it fills the gap).</summary>
    LargestFit,
    /// <summary>One granule more than the largest fit: the first map that no longer fits there.</summary>
    FirstMisfit,
    /// <summary>One granule less than the largest fit.</summary>
    OneGranuleShort,
    /// <summary>A size at an allocator class edge (31, 32, 33, 63, 64, 65 granules).</summary>
    ClassEdge,
    /// <summary>Ends exactly on the boundary's last byte.</summary>
    EndsOn,
    /// <summary>Ends one byte past the boundary.</summary>
    EndsOnePast,
    /// <summary>Ends one granule before the boundary.</summary>
    EndsGranuleBefore,
    /// <summary>Starts right after the boundary.</summary>
    StartsAfter,
    /// <summary>Overlaps the boundary's first or last granule by one granule.</summary>
    OverlapsByGranule,
}

/// <summary>An aimed size or address and what it aims at.</summary>
public readonly record struct Aimed(ulong Value, AimKind Kind);

/// <summary>
/// The boundaries of the current state that a next op can land on, for the generators that aim
/// (the property engine's op generator, the fuzz decoder): for a device's next map, the free gap
/// of its domain's IOVA space the allocator fills next below each of its limits (the DMA limit,
/// the 32-bit boundary for PCI devices, the aperture end), and the sizes that fill it, fit it
/// exactly, or miss it by one granule; for a device that bypasses translation, the buffers that
/// end exactly on, one byte past, or one granule before its DMA limit, the GART aperture, the
/// DDW direct window and the 4 GiB line; for an unmanaged domain, the IOVAs that end right
/// before or overlap a reserved region, a live leaf run or the aperture end by one granule.
/// Each question is a few O(log n) lookups in the persistent state (gap searches of
/// <see cref="ModelDomain.Occupied"/>, the leaf runs): nothing scans the state.
/// </summary>
public static class Boundaries
{
    /// <summary>Aimed map lengths are capped here: a buffer must fit one RAM range, and a map of
    /// gigabytes costs the page tables more than the boundary is worth.</summary>
    public const ulong MaxAimedLength = 64UL << 20;

    private const ulong FourGiBLast = 0xFFFF_FFFF;
    private static readonly ulong[] ClassEdgeGranules = [31, 32, 33, 63, 64, 65];

    /// <summary>Lengths (multiples of the domain's granule) for the device's next DMA-API map,
    /// streaming or coherent, aimed at the gap its domain's allocator fills next below each of
    /// its limits. Nothing when the device's DMA is not translated by a DMA-API domain (then
    /// <see cref="BypassBuffers"/> applies). A buffer that is granule-aligned keeps exactly this
    /// IOVA size.</summary>
    public static void MapLengths(ModelState state, int deviceId, bool coherent, List<Aimed> into)
    {
        if (state.Device(deviceId) is not { } device || state.Platform.Device(deviceId) is not { } config || config.BypassesIommu) return;
        if (state.DomainOf(device) is not { IsDmaApi: true } domain) return;
        ulong granule = domain.Granule;
        ulong limit = DmaRules.MinNotZero(coherent ? device.CoherentMask : device.DmaMask, device.BusDmaLimit);
        if (domain.ForceAperture) limit = Math.Min(limit, domain.Aperture.Last);
        AimAtGapBelow(domain, limit, into);
        if (limit > FourGiBLast && config.IsPci) AimAtGapBelow(domain, FourGiBLast, into);
        if (domain.Policy == IovaPolicy.SizeAligned)
            foreach (ulong n in ClassEdgeGranules) into.Add(new Aimed(n * granule, AimKind.ClassEdge));
    }

    /// <summary>The free gap the allocator fills next below <paramref name="limit"/> (the highest
    /// for size-aligned domains, the lowest for the GART/TCE bitmaps), or null when none is left.</summary>
    public static AddrRange? NextGap(ModelDomain domain, ulong limit)
    {
        ulong lo = Math.Max(domain.AllocStart, domain.Aperture.Start);
        ulong hi = Math.Min(limit, domain.Aperture.Last);
        if (hi < lo) return null;
        return domain.Policy == IovaPolicy.SizeAligned
            ? domain.Occupied.HighestFit(lo, hi, domain.Granule, gap => gap)
            : domain.Occupied.LowestFit(lo, hi, domain.Granule, gap => gap);
    }

    private static void AimAtGapBelow(ModelDomain domain, ulong limit, List<Aimed> into)
    {
        if (NextGap(domain, limit) is not { } gap) return;
        ulong granule = domain.Granule;
        ulong largest = LargestFit(domain, gap, limit);
        if (largest == 0) return;
        if (largest > MaxAimedLength / granule)
        {
            // A gap too large to fill in one map: aim at the cap, a step towards filling it.
            into.Add(new Aimed(MaxAimedLength / granule * granule, AimKind.LargestFit));
            return;
        }
        into.Add(new Aimed(largest * granule, AimKind.LargestFit));
        into.Add(new Aimed((largest + 1) * granule, AimKind.FirstMisfit));
        if (largest > 1) into.Add(new Aimed((largest - 1) * granule, AimKind.OneGranuleShort));
    }

    /// <summary>The most granules a request of this domain's policy can take in
    /// <paramref name="gap"/> (0 when not even one): the gap's size for the page-granular
    /// bitmaps, else the largest size-aligned request (rounded below 32 granules as dma-iommu
    /// rounds it) that fits, found by bisection (fitting is monotone in the size).</summary>
    public static ulong LargestFit(ModelDomain domain, AddrRange gap, ulong limit)
    {
        ulong granule = domain.Granule;
        ulong most = (ulong)(gap.Size / granule);
        if (most == 0) return 0;
        if (domain.Policy != IovaPolicy.SizeAligned) return most;
        bool Fits(ulong n) => IovaSpace.HighestInGap(gap, IovaSpace.RequestFor(IovaPolicy.SizeAligned, granule, n * granule, limit, ulong.MaxValue)) is not null;
        if (!Fits(1)) return 0;
        ulong lo = 1, hi = most; // Fits(lo), and nothing above most can fit
        while (lo < hi)
        {
            ulong mid = lo + (hi - lo + 1) / 2;
            if (Fits(mid)) lo = mid; else hi = mid - 1;
        }
        return lo;
    }

    /// <summary>Physical buffers of <paramref name="length"/> bytes, inside one RAM range, that put
    /// the device's DMA address on a boundary of its untranslated path: its DMA limit (mask and bus
    /// limit, the coherent mask for coherent buffers), the DDW direct window's end (DMA = phys +
    /// offset), a GART aperture's edges and the 4 GiB line. Adds nothing for a zero length.</summary>
    public static void BypassBuffers(ModelState state, int deviceId, ulong length, bool coherent, List<Aimed> into)
    {
        if (length == 0 || state.Device(deviceId) is not { } device || state.Platform.Device(deviceId) is not { } config) return;
        var platform = state.Platform;
        ulong limit = DmaRules.MinNotZero(coherent ? device.CoherentMask : device.DmaMask, device.BusDmaLimit);
        AroundEnd(platform, limit, length, into);
        AroundEnd(platform, FourGiBLast, length, into);
        if (platform.IommuOf(config)?.Tce is { } tce && device.DdwActive && limit >= tce.DdwOffset)
            AroundEnd(platform, limit - tce.DdwOffset, length, into);
        foreach (var aperture in platform.Apertures)
        {
            if (aperture.Start > 0) AroundEnd(platform, aperture.Start - 1, length, into);
            Add(platform, aperture.Start, length, AimKind.OverlapsByGranule, into);             // starts on its first byte
            if (aperture.Last != ulong.MaxValue) Add(platform, aperture.Last + 1, length, AimKind.StartsAfter, into);
        }
    }

    /// <summary>Buffers ending exactly on <paramref name="last"/>, one byte past it, and one 4 KiB
    /// page before it.</summary>
    private static void AroundEnd(PlatformIndex platform, ulong last, ulong length, List<Aimed> into)
    {
        if (last == ulong.MaxValue || last + 1 < length) return;
        ulong start = last + 1 - length;
        Add(platform, start, length, AimKind.EndsOn, into);
        Add(platform, start + 1, length, AimKind.EndsOnePast, into);
        if (start >= 0x1000) Add(platform, start - 0x1000, length, AimKind.EndsGranuleBefore, into);
    }

    private static void Add(PlatformIndex platform, ulong start, ulong length, AimKind kind, List<Aimed> into)
    {
        if (AddrRange.TryFromLength(start, length, out var buffer) && platform.IsRam(buffer)) into.Add(new Aimed(start, kind));
    }

    /// <summary>IOVAs (granule-aligned, inside the aperture or crossing its end) for an
    /// iommu_map of <paramref name="length"/> bytes into <paramref name="domain"/>: ending right
    /// before, or overlapping by one granule, each reserved range, the leaf run
    /// <paramref name="pick"/> selects (modulo the runs), and the aperture's end.</summary>
    public static void IommuMapIovas(ModelDomain domain, ulong length, int pick, List<Aimed> into)
    {
        ulong granule = domain.Granule;
        if (length == 0 || length % granule != 0) return;
        foreach (var r in domain.Reserved) AroundRange(r.Range, length, granule, into);
        if (!domain.Leaves.IsEmpty && domain.Leaves.TryElementAt((int)((uint)pick % (uint)domain.Leaves.Count), out var run))
            AroundRange(run.Range, length, granule, into);
        var aperture = domain.Aperture;
        if (aperture.Last != ulong.MaxValue && aperture.Last + 1 >= length)
        {
            into.Add(new Aimed(aperture.Last + 1 - length, AimKind.EndsOn));
            into.Add(new Aimed(aperture.Last + 1 - length + granule, AimKind.EndsOnePast));
        }
    }

    private static void AroundRange(AddrRange range, ulong length, ulong granule, List<Aimed> into)
    {
        ulong start = range.Start & ~(granule - 1);
        if (start >= length)
        {
            into.Add(new Aimed(start - length, AimKind.EndsGranuleBefore));
            into.Add(new Aimed(start - length + granule, AimKind.OverlapsByGranule));
        }
        ulong after = (range.Last | (granule - 1));
        if (after != ulong.MaxValue)
        {
            into.Add(new Aimed(after + 1, AimKind.StartsAfter));
            if (after + 1 >= granule) into.Add(new Aimed(after + 1 - granule, AimKind.OverlapsByGranule));
        }
    }

    /// <summary>Offsets into a live mapping of <paramref name="size"/> bytes (with the length of
    /// the access) that touch its ends: its last byte, the first byte past it, the last byte of
    /// its last granule and the first byte of the next granule.</summary>
    public static void MappingEnds(ulong size, ulong granule, List<(ulong Offset, ulong Length)> into)
    {
        if (size == 0) return;
        into.Add((size - 1, 1));
        into.Add((size - 1, 2));
        into.Add((size, 1));
        ulong rounded = (size + granule - 1) & ~(granule - 1);
        if (rounded > size) into.Add((rounded - 1, 1));
        into.Add((rounded, 1));
    }
}
