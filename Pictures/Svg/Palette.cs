namespace DmaVerify.Pictures.Svg;

/// <summary>How one kind of thing is drawn, and what the legend calls it.</summary>
internal sealed record Swatch(string Name, string Fill, string Stroke, string TextFill = Palette.Ink)
{
    /// <summary>Whether a label goes inside a bar of this swatch (on a dark fill it is white).</summary>
    public bool Dark => TextFill != Palette.Ink;
}

/// <summary>
/// The colours of the picture: one swatch per kind of range. Memory in use is saturated (blue
/// mappings, orange flush-queue entries), what may not be used is grey and hatched, windows a
/// device sees are pale, and red is kept for invariant violations alone.
/// </summary>
internal static class Palette
{
    public const string Ink = "#1f1f1f";
    public const string Muted = "#5f5f5f";
    public const string Background = "#ffffff";
    public const string Rule = "#c8c8c8";
    public const string Stripe = "#f4f6f8";
    public const string Reserved = "#d9d9d9";
    public const string ReservedHatch = "#a6a6a6";
    public const string ViolationRed = "#c62828";
    public const string White = "#ffffff";

    public static readonly Swatch Aperture = new("aperture (IOVA space)", "#eef3f8", "#8da5bd");
    public static readonly Swatch Mapping = new("live mapping", "#3b6ea5", "#24476d", White);
    public static readonly Swatch IommuMapped = new("iommu_map'd range (unmanaged domain)", "#5b8fc7", "#24476d", White);
    public static readonly Swatch StrayLeaves = new("page-table leaves outside any allocation", "#333333", "#000000", White);
    public static readonly Swatch MsiPage = new("MSI page (mapped doorbell)", "#7b4f9d", "#4e2f66", White);
    public static readonly Swatch FlushQueue = new("flush-queue entry (unmapped, not yet reusable)", "#f28e2b", "#b35f0f");
    public static readonly Swatch FlushedEntry = new("flush-queue entry (flushed, reusable)", "#fbd3a6", "#b35f0f");
    public static readonly Swatch ReservedRange = new("reserved (never mapped)", "url(#" + SvgCanvas.HatchPattern + ")", "#7f7f7f");
    public static readonly Swatch Msi = new("hardware MSI window (IOMMU_RESV_MSI)", "#c9a6e0", "#7b4f9d");
    public static readonly Swatch SwMsi = new("software-managed MSI window (IOMMU_RESV_SW_MSI)", "#e7d5f2", "#7b4f9d");
    public static readonly Swatch Direct = new("direct region (1:1 for the domain's life)", "#59a89c", "#2f6b62", White);
    public static readonly Swatch DmaMask = new("device DMA mask (addresses it can drive)", "#f2f2f2", "#9a9a9a");
    public static readonly Swatch BusLimit = new("bus DMA limit", "#e3e3e3", "#6f6f6f");
    public static readonly Swatch Bypass = new("bypass window (dma = phys)", "#b5dcae", "#4b8b3b");
    public static readonly Swatch GartAperture = new("GART aperture (always remapped)", "#f7e08a", "#a08a1c");
    public static readonly Swatch TceWindow = new("TCE window (mapped through TCEs)", "#c7dcef", "#3b6ea5");
    public static readonly Swatch DdwWindow = new("DDW direct window (dma = phys + offset)", "#8fd1c6", "#2f6b62");
    public static readonly Swatch Swiotlb = new("swiotlb bounce pool (physical)", "#e8d9c5", "#8c6d46");
    public static readonly Swatch Violation = new("invariant violation", "#e53935", ViolationRed, White);

    /// <summary>Every swatch, in the order the legend lists them.</summary>
    public static readonly IReadOnlyList<Swatch> All =
    [
        Aperture, Mapping, IommuMapped, StrayLeaves, MsiPage, FlushQueue, FlushedEntry, ReservedRange, Msi, SwMsi, Direct,
        DmaMask, BusLimit, Bypass, GartAperture, TceWindow, DdwWindow, Swiotlb, Violation,
    ];

    public static Swatch For(SpanKind kind) => kind switch
    {
        SpanKind.Mapping => Mapping,
        SpanKind.MsiPage => MsiPage,
        SpanKind.IommuMapped => IommuMapped,
        SpanKind.StrayLeaves => StrayLeaves,
        SpanKind.FlushQueue => FlushQueue,
        SpanKind.Msi => Msi,
        SpanKind.SwMsi => SwMsi,
        SpanKind.Direct or SpanKind.DirectRelaxable => Direct,
        SpanKind.Free => Aperture,
        _ => ReservedRange,
    };

    /// <summary>The swatch of a <see cref="DmaWindow"/> by its kind (see IovaSpaceView).</summary>
    public static Swatch ForWindow(string kind) => kind switch
    {
        "aperture" => GartAperture,
        "tce" => TceWindow,
        "ddw" => DdwWindow,
        "swiotlb" => Swiotlb,
        _ => Bypass,
    };
}
