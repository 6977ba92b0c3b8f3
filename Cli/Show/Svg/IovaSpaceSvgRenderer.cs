using DmaVerify.Model;

namespace DmaVerify.Cli.Show.Svg;

/// <summary>
/// Draws a <see cref="SystemState"/>'s IOVA spaces as one SVG picture: a title, the invariant
/// violations (if any) listed in red, a legend, then one panel per domain and one for the
/// devices without a domain, each on its own broken log axis (see <see cref="AddressAxis"/>).
/// Takes the violations from the caller, so any source can feed it: the model's replay
/// (<see cref="ReplayReport"/>), the invariant checker run on an implementation's exported
/// state, a refinement counterexample. Same input, same bytes.
/// </summary>
internal static class IovaSpaceSvgRenderer
{
    public static string Render(SystemState state, IReadOnlyList<Violation> violations, string title, IReadOnlyList<string>? notes = null) =>
        Render(IovaSpaceView.Of(state), violations, title, notes ?? []);

    public static string Render(IovaSpaceView view, IReadOnlyList<Violation> violations, string title, IReadOnlyList<string> notes)
    {
        var canvas = new SvgCanvas(Layout.Width);
        var placement = new ViolationPlacement(view, violations.Where(v => v is not null));
        var panels = PanelBuilder.Build(view, placement);
        int textChars = SvgCanvas.CharsThatFit(Layout.Width - 2 * Layout.Margin, Layout.BodySize);

        double y = Layout.Margin;
        canvas.Add(new SvgText(Layout.Margin, y + Layout.TitleSize, TextWrap.Fit(title, SvgCanvas.CharsThatFit(Layout.Width - 2 * Layout.Margin, Layout.TitleSize)),
            Layout.TitleSize, Bold: true));
        y += Layout.TitleSize + 8;
        foreach (var note in notes)
            foreach (var line in TextWrap.Lines(note, textChars))
            {
                canvas.Add(new SvgText(Layout.Margin, y + Layout.BodySize, line, Layout.BodySize));
                y += Layout.BodySize + 4;
            }
        y += 6;

        y = PaintViolations(canvas, placement, y, textChars);

        var used = panels.SelectMany(p => p.Lanes).SelectMany(l => l.Bars).Select(b => b.Swatch).ToHashSet();
        if (placement.All.Count > 0) used.Add(Palette.Violation);
        y = LegendPainter.Paint(canvas, used, y);

        foreach (var panel in panels)
        {
            y += 8;
            canvas.Add(new SvgLine(Layout.Margin, y, Layout.Width - Layout.Margin, y, Palette.Rule));
            y = PanelPainter.Paint(canvas, panel, y + 10);
        }
        if (panels.Count == 0)
        {
            canvas.Add(new SvgText(Layout.Margin, y + Layout.BodySize, "no domains and no devices", Layout.BodySize));
            y += Layout.BodySize + 4;
        }
        return canvas.ToSvg(y + Layout.Margin, title);
    }

    /// <summary>The red list of violations: tag, invariant, device, range, explanation, and
    /// where the picture draws it.</summary>
    private static double PaintViolations(SvgCanvas canvas, ViolationPlacement placement, double y, int textChars)
    {
        if (placement.All.Count == 0) return y;
        canvas.Add(new SvgText(Layout.Margin, y + Layout.HeadingSize,
            placement.All.Count == 1 ? "1 invariant violation" : $"{placement.All.Count} invariant violations",
            Layout.HeadingSize, Palette.ViolationRed, Bold: true));
        y += Layout.HeadingSize + 6;
        foreach (var v in placement.All)
        {
            var places = placement.PlacesOf[v.Number];
            string where = places.Count == 0
                ? "(not drawn: " + (v.Violation.Range is null ? "it names no range)" : "its range lies in no panel)")
                : "(drawn in " + string.Join(", ", places.Select(p => p.DomainId is int d ? $"domain {d}" : "the devices-without-a-domain panel")) + ")";
            string device = v.Violation.Device is int dev ? $" dev {dev}" : "";
            string range = v.Violation.Range is AddrRange r ? $" {PanelPainter.RangeText(r)} ({Sizes.Human(r.Size)})" : "";
            var lines = TextWrap.Lines($"{v.Tag} {v.Violation.Invariant}{device}{range}: {v.Violation.Explanation} {where}", textChars - 2);
            for (int i = 0; i < lines.Count; i++)
            {
                canvas.Add(new SvgText(Layout.Margin + (i == 0 ? 0 : 16), y + Layout.BodySize, lines[i], Layout.BodySize, i == 0 ? Palette.ViolationRed : Palette.Ink));
                y += Layout.BodySize + 4;
            }
        }
        return y + 8;
    }
}
