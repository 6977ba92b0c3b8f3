using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Pictures.Svg;

/// <summary>
/// Draws one <see cref="Panel"/>: heading, the lanes of bars on the panel's
/// <see cref="AddressAxis"/> (alternate stretches of the broken axis shaded), the violations as
/// red bars in their own lane and as red bands across every lane, the axis with its addresses,
/// and the key table that gives each tagged bar's exact range, size and description.
/// </summary>
internal static class PanelPainter
{
    private const double LabelPad = 3;

    /// <summary>Draws the panel from <paramref name="top"/>; returns the y below it.</summary>
    public static double Paint(SvgCanvas canvas, Panel panel, double top)
    {
        double y = top;
        canvas.Add(new SvgText(Layout.Margin, y + Layout.HeadingSize, panel.Heading, Layout.HeadingSize, Bold: true));
        y += Layout.HeadingSize + 6;
        foreach (var line in TextWrap.Lines(panel.Subheading, SvgCanvas.CharsThatFit(Layout.Width - 2 * Layout.Margin, Layout.BodySize)))
        {
            canvas.Add(new SvgText(Layout.Margin, y + Layout.BodySize, line, Layout.BodySize, Palette.Muted));
            y += Layout.BodySize + 4;
        }
        y += 6;

        var axis = AddressAxis.Build(panel.Ranges, Layout.PlotLeft, Layout.PlotWidth);
        var lanes = panel.Lanes.Select(l => (l.Label, Rows: RowPacker.Pack(l.Bars, b => b.Range))).ToList();
        // One row per violation, so a name set beside a narrow bar never runs into another.
        var violationRows = panel.Violations.Select(v => new List<ViolationGroup> { v }).ToList();
        double lanesHeight = lanes.Sum(l => LaneHeight(l.Rows.Count)) + (violationRows.Count > 0 ? LaneHeight(violationRows.Count) : 0);

        double lanesTop = y;
        double lanesBottom = y + lanesHeight;
        PaintStripes(canvas, axis, lanesTop, lanesBottom);

        var broken = panel.Violations.Select(v => v.Range!.Value).ToList();
        foreach (var (label, rows) in lanes)
        {
            PaintLaneLabel(canvas, label, y, Palette.Ink);
            for (int r = 0; r < rows.Count; r++)
            {
                double rowTop = y + r * (Layout.RowHeight + Layout.RowGap);
                foreach (var bar in rows[r])
                    PaintBar(canvas, axis, bar, rowTop, HighlightsBreak(bar, broken));
            }
            y += LaneHeight(rows.Count);
        }

        if (violationRows.Count > 0)
        {
            PaintLaneLabel(canvas, "violations", y, Palette.ViolationRed);
            for (int r = 0; r < violationRows.Count; r++)
            {
                double rowTop = y + r * (Layout.RowHeight + Layout.RowGap);
                foreach (var v in violationRows[r])
                    PaintViolation(canvas, axis, v, rowTop);
            }
            y += LaneHeight(violationRows.Count);
        }

        // Red bands last, translucent, so the broken range reads through every lane.
        foreach (var v in panel.Violations)
        {
            var (left, right) = Visible(axis.Span(v.Range!.Value));
            canvas.Add(new SvgRect(left, lanesTop - 2, right - left, lanesBottom - lanesTop + 2, Palette.Violation.Fill,
                Palette.ViolationRed, 1, Opacity: 0.12, Dash: "4 2"));
        }

        y = PaintAxis(canvas, axis, lanesBottom + 2);
        y = PaintKey(canvas, panel, y + 6);
        return y;
    }

    private static double LaneHeight(int rows) => rows * Layout.RowHeight + Math.Max(0, rows - 1) * Layout.RowGap + Layout.LaneGap;

    /// <summary>Shades every other stretch of the broken axis, so its cuts can be seen.</summary>
    private static void PaintStripes(SvgCanvas canvas, AddressAxis axis, double top, double bottom)
    {
        for (int i = 0; i + 1 < axis.Cuts.Count; i += 2)
        {
            double left = axis.X(axis.Cuts[i]), right = axis.X(axis.Cuts[i + 1]);
            canvas.Add(new SvgRect(left, top, right - left, bottom - top, Palette.Stripe));
        }
    }

    private static void PaintLaneLabel(SvgCanvas canvas, string label, double rowTop, string fill)
    {
        string text = TextWrap.Fit(label, SvgCanvas.CharsThatFit(Layout.LaneLabelWidth, Layout.BodySize));
        canvas.Add(new SvgText(Layout.Margin, Baseline(rowTop, Layout.BodySize), text, Layout.BodySize, fill, Bold: fill == Palette.ViolationRed));
    }

    private static double Baseline(double rowTop, double size) => rowTop + Layout.RowHeight / 2 + size * 0.36;

    /// <summary>A bar is at least 2 px wide, so a range on a crowded axis stays visible.</summary>
    private static (double Left, double Right) Visible((double Left, double Right) span) =>
        span.Right - span.Left >= 2 ? span : (span.Left, span.Left + 2);

    private static bool HighlightsBreak(Bar bar, List<AddrRange> broken) =>
        bar.Occupant && broken.Any(b => b.Overlaps(bar.Range));

    private static void PaintBar(SvgCanvas canvas, AddressAxis axis, Bar bar, double rowTop, bool broken)
    {
        var (left, right) = Visible(axis.Span(bar.Range));
        string tooltip = $"{bar.Tag} {Hex.Format(bar.Range.Start)}..{Hex.Format(bar.Range.Last)} ({Sizes.Human(bar.Range.Size)}) {bar.Kind}: {bar.Detail}";
        canvas.Add(new SvgRect(left, rowTop, right - left, Layout.RowHeight, bar.Swatch.Fill,
            broken ? Palette.ViolationRed : bar.Swatch.Stroke, broken ? 2.5 : 1, tooltip));
        string size = Sizes.Human(bar.Range.Size);
        PaintInside(canvas, left, right, rowTop, bar.Swatch.TextFill,
            [$"{bar.Tag} {bar.Short} {size}", $"{bar.Tag} {bar.Short}", $"{bar.Tag} {size}", bar.Tag]);
    }

    private static void PaintViolation(SvgCanvas canvas, AddressAxis axis, ViolationGroup v, double rowTop)
    {
        var range = v.Range!.Value;
        var (left, right) = Visible(axis.Span(range));
        string count = v.Count == 1 ? "" : $" ({v.Count} violations, the first:)";
        canvas.Add(new SvgRect(left, rowTop, right - left, Layout.RowHeight, Palette.Violation.Fill, Palette.ViolationRed, 1.5,
            $"{v.Tag} {RangeText(range)}{count} {v.First}"));
        string device = v.First.Device is int d ? $" dev {d}" : "";
        string times = v.Count == 1 ? "" : $" ×{v.Count}";
        if (!PaintInside(canvas, left, right, rowTop, Palette.White,
                [$"{v.Tag} {v.First.Invariant}{times}{device} ({Sizes.Human(range.Size)})", $"{v.Tag} {v.First.Invariant}{times}", $"{v.Tag} {v.First.Invariant}"]))
        {
            // Too narrow to hold its name: name it beside the bar (its row is its own).
            string name = $"{v.Tag} {v.First.Invariant}{times}{device} ({Sizes.Human(range.Size)})";
            bool roomRight = right + LabelPad + SvgCanvas.TextWidth(name, Layout.SmallSize) <= Layout.PlotRight;
            canvas.Add(new SvgText(roomRight ? right + LabelPad : left - LabelPad, Baseline(rowTop, Layout.SmallSize), name,
                Layout.SmallSize, Palette.ViolationRed, Bold: true, Anchor: roomRight ? TextAnchor.Start : TextAnchor.End));
        }
    }

    /// <summary>Writes the first candidate that fits inside [left, right]; false when none does.</summary>
    private static bool PaintInside(SvgCanvas canvas, double left, double right, double rowTop, string fill, string[] candidates)
    {
        foreach (var text in candidates)
        {
            if (SvgCanvas.TextWidth(text, Layout.SmallSize) + 2 * LabelPad > right - left) continue;
            canvas.Add(new SvgText((left + right) / 2, Baseline(rowTop, Layout.SmallSize), text, Layout.SmallSize, fill, Anchor: TextAnchor.Middle));
            return true;
        }
        return false;
    }

    /// <summary>The axis line, a tick at every cut, and the cut addresses set vertically where
    /// they do not collide (the first and last always; the key has every exact bound).</summary>
    private static double PaintAxis(SvgCanvas canvas, AddressAxis axis, double y)
    {
        canvas.Add(new SvgLine(axis.Left, y, axis.Right, y, Palette.Muted));
        var cuts = axis.Cuts;
        var shown = new List<int>();
        double lastX = double.NegativeInfinity;
        double endX = axis.X(cuts[^1]);
        for (int i = 0; i < cuts.Count; i++)
        {
            double x = axis.X(cuts[i]);
            canvas.Add(new SvgLine(x, y, x, y + 4, Palette.Muted));
            bool last = i == cuts.Count - 1;
            if (last || (x - lastX >= Layout.AxisLabelPitch && endX - x >= Layout.AxisLabelPitch))
            {
                shown.Add(i);
                lastX = x;
            }
        }
        double longest = 0;
        foreach (int i in shown)
        {
            double x = axis.X(cuts[i]);
            string label = AddressAxis.Label(cuts[i]);
            longest = Math.Max(longest, SvgCanvas.TextWidth(label, Layout.SmallSize));
            canvas.Add(new SvgText(x + Layout.SmallSize * 0.36, y + 7, label, Layout.SmallSize, Palette.Muted, Anchor: TextAnchor.End, Rotate: -90));
        }
        canvas.Add(new SvgText(Layout.Margin, y + 4 + Layout.SmallSize, "address (broken log axis)", Layout.SmallSize, Palette.Muted));
        return y + 7 + longest + 4;
    }

    /// <summary>One row per tagged bar: tag, exact range, size, kind and description.</summary>
    private static double PaintKey(SvgCanvas canvas, Panel panel, double y)
    {
        var bars = panel.Lanes.SelectMany(l => l.Bars).ToList();
        if (bars.Count == 0) return y;
        int rangeWidth = bars.Max(b => RangeText(b.Range).Length);
        int kindWidth = bars.Max(b => b.Kind.Length);
        double size = Layout.SmallSize;
        double lineHeight = size + 4;
        double textLeft = Layout.Margin + 14;
        int maxChars = SvgCanvas.CharsThatFit(Layout.Width - Layout.Margin - textLeft, size);

        foreach (var bar in bars.Take(Layout.MaxKeyRows))
        {
            string head = $"{bar.Tag,-4} {RangeText(bar.Range).PadRight(rangeWidth)}  {Sizes.Human(bar.Range.Size),11}  {bar.Kind.PadRight(kindWidth)}  ";
            // The description wraps in its own column while that leaves it room; else under the tag.
            int indent = maxChars - head.Length >= 60 ? head.Length : 5;
            var lines = TextWrap.Lines(bar.Detail, maxChars - indent);
            canvas.Add(new SvgRect(Layout.Margin, y + 2, 9, 9, bar.Swatch.Fill, bar.Swatch.Stroke));
            canvas.Add(new SvgText(textLeft, y + size, head + (indent == head.Length ? lines[0] : ""), size));
            y += lineHeight;
            foreach (var line in indent == head.Length ? lines.Skip(1) : lines)
            {
                canvas.Add(new SvgText(textLeft, y + size, new string(' ', indent) + line, size));
                y += lineHeight;
            }
        }
        if (bars.Count > Layout.MaxKeyRows)
        {
            canvas.Add(new SvgText(textLeft, y + size, $"… and {bars.Count - Layout.MaxKeyRows} more (the text output of 'verify show' lists them all)", size, Palette.Muted));
            y += lineHeight;
        }
        return y + 4;
    }

    internal static string RangeText(AddrRange r) => $"{Hex.Format(r.Start)}..{Hex.Format(r.Last)}";
}
