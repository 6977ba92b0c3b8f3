namespace DmaVerify.Optimized.Dma.Kernels;

/// <summary>
/// The bypass arithmetic of the DMA API: dma_capable and the windows a bypass must respect
/// (the GART remapping aperture, the TCE dynamic DMA window). Static, pure and total integer
/// code (no BCL calls), so Proofs/ lifts and proves it (PO-40..PO-43).
/// </summary>
public static class DmaWindow
{
    /// <summary>min_not_zero(a, b): 0 means "no limit".</summary>
    public static ulong MinNotZero(ulong a, ulong b) => a == 0 ? b : b == 0 ? a : a < b ? a : b;

    /// <summary>
    /// dma_capable: [addr, addr + size) is non-empty, does not wrap past 2^64, is not
    /// DMA_MAPPING_ERROR, and its last byte is at most min_not_zero(mask, busLimit).
    /// </summary>
    public static bool IsCapable(ulong addr, ulong size, ulong mask, ulong busLimit)
    {
        if (size == 0 || addr == ulong.MaxValue) return false;
        if (size - 1 > ulong.MaxValue - addr) return false; // wraps
        return addr + (size - 1) <= MinNotZero(mask, busLimit);
    }

    /// <summary>Whether the buffer [phys, phys + length) shares a byte with the aperture
    /// [apertureStart, apertureLast] (inclusive). An empty buffer shares none; a buffer that would
    /// wrap is taken to run to 2^64 − 1.</summary>
    public static bool OverlapsAperture(ulong phys, ulong length, ulong apertureStart, ulong apertureLast)
    {
        if (length == 0 || apertureLast < apertureStart) return false;
        ulong last = length - 1 > ulong.MaxValue - phys ? ulong.MaxValue : phys + (length - 1);
        return phys <= apertureLast && apertureStart <= last;
    }

    /// <summary>A TCE device's bypass through the dynamic DMA window: the bus address
    /// phys + ddwOffset does not wrap and is capable under the device's limits (the DDW limit is
    /// the device's bus limit while the window is active).</summary>
    public static bool InDdwWindow(ulong phys, ulong length, ulong ddwOffset, ulong mask, ulong busLimit) =>
        phys <= ulong.MaxValue - ddwOffset && IsCapable(phys + ddwOffset, length, mask, busLimit);
}
