using DmaVerify.Optimized.Dma.Kernels;

namespace DmaVerify.Tests.ProofTests;

/// <summary>Wrong variants of real kernels, each with one planted bug an obligation must refute.</summary>
public static class PlantedKernels
{
    /// <summary>dma_capable with <c>&lt;</c> for <c>&lt;=</c>: a buffer ending exactly at the limit is refused.</summary>
    public static bool IsCapableStrict(ulong addr, ulong size, ulong mask, ulong busLimit)
    {
        if (size == 0 || addr == ulong.MaxValue) return false;
        if (size - 1 > ulong.MaxValue - addr) return false;
        return addr + (size - 1) < DmaWindow.MinNotZero(mask, busLimit);
    }

    /// <summary>GART encode with the high address field shifted by one bit too many.</summary>
    public static uint GartEncodeShiftOffByOne(ulong pa) =>
        (uint)(pa & 0xFFFF_F000) | ((uint)((pa >> 33) & 0xFF) << 4) | 1 | 2;

    /// <summary>Alignment by the size itself instead of its power-of-two round-up.</summary>
    public static ulong HighestStartAlignedBySize(ulong gapHi, ulong pages, bool sizeAligned)
    {
        ulong top = gapHi - (pages - 1);
        return sizeAligned ? top & ~(pages - 1) : top;
    }

    /// <summary>Magazine pop without the limit check.</summary>
    public static bool FitsLimitUnchecked(ulong pfn, ulong pages, ulong limitPfn) => pages >= 1;

    /// <summary>Boundary padding with the comparison turned around (pads only entries that fit anyway).</summary>
    public static ulong PadBeforeInverted(int index, ulong boundaryMask, ulong iovaLen, ulong length)
    {
        ulong pad = SgRules.BoundaryPad(boundaryMask, iovaLen);
        return index > 0 && pad != 0 && pad > length - 1 ? pad : 0;
    }

    /// <summary>Page-size choice that ignores the physical address's alignment.</summary>
    public static ulong ChoosePageSizeIovaOnly(ulong pageSizes, ulong iova, ulong pa, ulong remaining) =>
        DmaVerify.Optimized.PageTables.PageSizeRule.Choose(pageSizes, iova, 0, remaining);

    /// <summary>Aperture test with <c>&lt;</c> for <c>&lt;=</c>: a buffer touching only the aperture's last byte is missed.</summary>
    public static bool OverlapsApertureStrict(ulong phys, ulong length, ulong apertureStart, ulong apertureLast)
    {
        if (length == 0 || apertureLast < apertureStart) return false;
        ulong last = length - 1 > ulong.MaxValue - phys ? ulong.MaxValue : phys + (length - 1);
        return phys < apertureLast && apertureStart <= last;
    }

    /// <summary>GART chunk merge with the inline code's sum, which wraps for huge max_segment_size.</summary>
    public static bool GartJoinsChunkWrapping(ulong previousEnd, ulong phys, ulong chunkLength, ulong length, ulong maxSegment) =>
        (previousEnd & 0xFFF) == 0 && (phys & 0xFFF) == 0 && chunkLength + length <= maxSegment;

    /// <summary>VT-d leaf without the PS bit on superpages.</summary>
    public static ulong VtdEncodeLeafWithoutPageSize(ulong pa, int level, bool read, bool write) =>
        (pa & 0x000F_FFFF_FFFF_F000UL) | (read ? 1UL : 0) | (write ? 2UL : 0);

    /// <summary>Reads a static field: the lifter must refuse it.</summary>
    public static ulong ReadsStaticState(ulong x) => x + Counter;

    public static ulong Counter = 1;

    /// <summary>A loop whose bound is an input: the lifter must refuse it.</summary>
    public static ulong LoopsToInput(ulong n)
    {
        ulong sum = 0;
        for (ulong i = 0; i < n; i++) sum += i;
        return sum;
    }

    /// <summary>Calls into the BCL: the lifter must refuse it.</summary>
    public static ulong CallsMathMax(ulong a, ulong b) => Math.Max(a, b);
}
