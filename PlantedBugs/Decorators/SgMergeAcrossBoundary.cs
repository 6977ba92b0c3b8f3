using DmaVerify.Contracts;

namespace DmaVerify.PlantedBugs;

/// <summary>
/// An sg merge across a segment boundary: two DMA-contiguous output segments are merged
/// although the merged segment crosses the device's dma_get_seg_boundary.
/// </summary>
public sealed class SgMergeAcrossBoundary(ISystemUnderTest inner, PlatformConfig platform) : Decorator(inner, "sg-merge-across-boundary")
{
    public static Func<PlatformConfig, ISystemUnderTest> Over(Func<PlatformConfig, ISystemUnderTest> factory) =>
        platform => new SgMergeAcrossBoundary(factory(platform), platform);

    public override Outcome Apply(Op op)
    {
        var outcome = Inner.Apply(op);
        if (op is not MapSg sg || outcome is not SgMapped mapped || platform.Device(sg.Device) is not { } device) return outcome;
        var segments = mapped.Segments.ToList();
        for (int i = 0; i + 1 < segments.Count; i++)
        {
            var (a, b) = (segments[i], segments[i + 1]);
            if (a.Dma.Value + a.Length != b.Dma.Value) continue;
            ulong last = b.Dma.Value + b.Length - 1;
            if ((a.Dma.Value & ~device.SegmentBoundaryMask) == (last & ~device.SegmentBoundaryMask)) continue;
            segments[i] = new DmaSegment(a.Dma, a.Length + b.Length);
            segments.RemoveAt(i + 1);
            return mapped with { Segments = segments.ToValueList() };
        }
        return outcome;
    }
}
