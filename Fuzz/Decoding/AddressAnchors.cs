using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Fuzz.Decoding;

/// <summary>
/// The addresses of a platform where behaviour changes: RAM and MMIO starts and ends, the swiotlb
/// pool, reserved, MSI and direct regions, apertures and windows, the 4 GiB line. An op record
/// names an anchor by index and an offset from it, so random bytes land on and around the
/// edges that matter instead of in the middle of nowhere.
/// </summary>
public sealed class AddressAnchors
{
    private readonly ulong[] _anchors;

    public AddressAnchors(PlatformConfig platform)
    {
        var set = new SortedSet<ulong> { 0, 1UL << 32 };
        foreach (var r in platform.Ram) AddRange(set, r);
        foreach (var r in platform.Mmio) AddRange(set, r);
        if (platform.SwiotlbPool is { } pool) AddRange(set, pool);
        foreach (var iommu in platform.Iommus)
        {
            foreach (var region in iommu.Regions) AddRange(set, region.Range);
            foreach (var window in iommu.PciHostWindows) AddRange(set, window);
            AddRange(set, iommu.Aperture);
            if (iommu.Gart is { } gart) AddRange(set, gart.Aperture);
            if (iommu.Tce is { } tce)
            {
                AddRange(set, tce.DefaultWindow);
                set.Add(1UL << tce.DdwDirectBits); // the first physical byte the direct window does not cover
            }
        }
        _anchors = [.. set];
    }

    public int Count => _anchors.Length;

    public ulong this[int selector] => _anchors[selector % _anchors.Length];

    public IReadOnlyList<ulong> All => _anchors;

    private static void AddRange(SortedSet<ulong> set, AddrRange r)
    {
        set.Add(r.Start);
        if (r.Last != ulong.MaxValue) set.Add(r.Last + 1);
    }
}
