namespace DmaVerify.Pictures.Svg;

/// <summary>The picture's fixed geometry, in SVG pixels.</summary>
internal static class Layout
{
    public const double Width = 1280;
    public const double Margin = 16;
    public const double LaneLabelWidth = 150;
    public const double PlotLeft = Margin + LaneLabelWidth + 8;
    public const double PlotRight = Width - Margin;
    public const double PlotWidth = PlotRight - PlotLeft;

    public const double RowHeight = 18;
    public const double RowGap = 3;
    public const double LaneGap = 7;

    public const double TitleSize = 15;
    public const double HeadingSize = 13;
    public const double BodySize = 11;
    public const double SmallSize = 10;

    /// <summary>Minimum distance between two axis labels (they are set vertically).</summary>
    public const double AxisLabelPitch = 12;

    /// <summary>Key rows drawn per panel; the rest are counted (the text output lists them all).</summary>
    public const int MaxKeyRows = 150;

    /// <summary>Violation groups listed under the title; the rest are counted.</summary>
    public const int MaxViolationRows = 40;
}
