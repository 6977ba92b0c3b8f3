using DmaVerify.Contracts;

namespace DmaVerify.Explore;

/// <summary>
/// The platform a preset is explored on: the preset's own devices plus one device that makes
/// the segment-boundary rule reachable with two granules: a 32-bit device behind the preset's
/// first IOMMU (or none) whose dma_get_seg_boundary is 4 KiB, so any two DMA-contiguous output
/// segments of a scatterlist lie on both sides of a boundary (INV-09). The preset devices all
/// have 4 GiB or no boundary, which no two-granule list can cross. The device is written into
/// every counterexample as a <c>device</c> line, so `verify replay` builds the same platform.
/// </summary>
public sealed record ExplorePlatform(string Preset, PlatformConfig Platform, Scenario Header, int BoundaryDevice)
{
    public const ulong BoundaryMask = 0xFFF;

    public static bool TryCreate(string preset, out ExplorePlatform explored, out string error)
    {
        explored = null!;
        if (!Presets.TryGet(preset, out var basePlatform, out error)) return false;
        int id = basePlatform.Devices.Max(d => d.Id) + 1;
        var boundary = new DeviceConfig
        {
            Id = id, Name = "sg-boundary", Iommu = basePlatform.Iommus.FirstOrDefault()?.Id,
            DmaMask = uint.MaxValue, CoherentMask = uint.MaxValue, SegmentBoundaryMask = BoundaryMask,
        };
        var header = new Scenario(preset, ValueList.Of(boundary), ValueList<ScenarioStep>.Empty);
        if (!header.TryBuildPlatform(out var platform, out error)) return false;
        explored = new ExplorePlatform(preset, platform, header, id);
        return true;
    }

    /// <summary>The ops as a scenario on this platform, ready for the text form.</summary>
    public Scenario ScenarioOf(IEnumerable<ScenarioStep> steps) => Header with { Steps = steps.ToValueList() };
}
