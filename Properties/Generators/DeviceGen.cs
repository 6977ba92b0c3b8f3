using DmaVerify.Contracts;
using DmaVerify.Model;
using FsCheck;
using FsCheck.Fluent;

namespace DmaVerify.Properties;

/// <summary>Devices beyond a preset's own: masks of 24…64 bits, bus limits, PCI or not, trusted
/// or not, virtio with or without ACCESS_PLATFORM, small segment limits (so sg splitting and
/// boundaries matter), behind any of the platform's IOMMUs or none.</summary>
public static class DeviceGen
{
    private static readonly ulong[] MaxSegments = [0x1000, 0x2000, 0x4000, 0x10000, 0x10_0000];
    private static readonly int[] BoundaryBits = [12, 13, 14, 16, 20, 32, 64];

    public static Gen<ulong> Mask { get; } = Gen.Choose(24, 64).Select(Draw.BitMask);

    public static Gen<DeviceConfig> Device(PlatformConfig platform, int id)
    {
        var iommu = platform.Iommus.Count == 0
            ? Gen.Constant<int?>(null)
            : Gen.Frequency((5, Gen.Elements(platform.Iommus.Select(i => (int?)i.Id).ToArray())), (1, Gen.Constant<int?>(null)));
        var virtio = Gen.Frequency((6, Gen.Constant<bool?>(null)), (1, Gen.Constant<bool?>(true)), (1, Gen.Constant<bool?>(false)));
        var shape =
            from unit in iommu
            from maskBits in Gen.Choose(24, 64)
            from coherentBits in Gen.Frequency((3, Gen.Constant(maskBits)), (1, Gen.Choose(24, maskBits)))
            from busBits in Gen.Frequency((4, Gen.Constant(0)), (1, Gen.Choose(30, 48)))
            select (unit, maskBits, coherentBits, busBits);
        var flags =
            from pci in Gen.Elements(true, false)
            from untrusted in Draw.Chance(15)
            from v in virtio
            from maxSeg in Gen.Elements(MaxSegments)
            from boundary in Gen.Elements(BoundaryBits)
            select (pci, untrusted, v, maxSeg, boundary);
        return (from s in shape
                from f in flags
                select new DeviceConfig
                {
                    Id = id,
                    Name = $"gen{id}",
                    Iommu = s.unit,
                    DmaMask = Draw.BitMask(s.maskBits),
                    CoherentMask = Draw.BitMask(s.coherentBits),
                    BusDmaLimit = s.busBits == 0 ? 0 : Draw.BitMask(s.busBits),
                    IsPci = f.pci,
                    // Untrusted devices sit behind a translating unit (behind GART/TCE their unaligned
                    // buffers are refused, see docs/model-semantics.md). Bypassing virtio devices and
                    // small segment boundaries go behind every kind of unit, GART and TCE included.
                    Untrusted = f.untrusted && f.v != false && s.unit is not null,
                    Virtio = f.v,
                    MaxSegmentSize = f.maxSeg,
                    SegmentBoundaryMask = Draw.BitMask(f.boundary),
                }).Where(d => Scenario.WhyInvalid(d, platform) is null);
    }

    /// <summary>Up to <paramref name="max"/> extra devices, numbered after the preset's.</summary>
    public static Gen<ValueList<DeviceConfig>> Extra(PlatformConfig platform, int max)
    {
        if (max <= 0) return Gen.Constant(ValueList<DeviceConfig>.Empty);
        int first = platform.Devices.Max(d => d.Id) + 1;
        return Gen.Choose(0, max).SelectMany(n =>
            n == 0
                ? Gen.Constant(ValueList<DeviceConfig>.Empty)
                : Enumerable.Range(first, n).Select(id => Device(platform, id)).Aggregate(
                    Gen.Constant(ValueList<DeviceConfig>.Empty),
                    (acc, next) => from list in acc from d in next select list.Append(d).ToValueList()));
    }
}
