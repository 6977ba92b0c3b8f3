namespace DmaVerify.Pictures.Svg;

/// <summary>The legend: a swatch and a name for every kind of range the picture uses, in
/// columns, then how to read the axis.</summary>
internal static class LegendPainter
{
    private const double ColumnWidth = 412;

    public static double Paint(SvgCanvas canvas, IReadOnlyCollection<Swatch> used, double top)
    {
        var swatches = Palette.All.Where(used.Contains).ToList();
        double size = Layout.BodySize;
        double lineHeight = size + 7;
        int columns = (int)((Layout.Width - 2 * Layout.Margin) / ColumnWidth);
        canvas.Add(new SvgText(Layout.Margin, top + size, "legend", size, Bold: true));
        double y = top + lineHeight + 2;
        for (int i = 0; i < swatches.Count; i++)
        {
            double x = Layout.Margin + i % columns * ColumnWidth;
            double rowTop = y + i / columns * lineHeight;
            var s = swatches[i];
            canvas.Add(new SvgRect(x, rowTop, 22, size + 1, s.Fill, s.Stroke));
            canvas.Add(new SvgText(x + 28, rowTop + size, s.Name, size));
        }
        y += (swatches.Count + columns - 1) / columns * lineHeight + 4;
        string note = "Address axis: cut wherever a drawn range starts or ends; each stretch between two cuts is drawn " +
                      "with a width that grows with log2 of its size (4 KiB: 1 unit, 1 GiB: 3.25, 2^64: 7.5), shaded " +
                      "stripes mark the stretches. Tags (A1, R2, W3, V1) lead to the key under each panel, which gives " +
                      "exact ranges; every bar's tooltip says the same.";
        foreach (var line in TextWrap.Lines(note, SvgCanvas.CharsThatFit(Layout.Width - 2 * Layout.Margin, Layout.SmallSize)))
        {
            canvas.Add(new SvgText(Layout.Margin, y + Layout.SmallSize, line, Layout.SmallSize, Palette.Muted));
            y += Layout.SmallSize + 4;
        }
        return y + 4;
    }
}
