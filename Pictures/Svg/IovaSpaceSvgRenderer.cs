using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Pictures.Svg;

/// <summary>
/// Draws a <see cref="SystemState"/>'s IOVA spaces as one SVG picture: a title, the invariant
/// violations (if any) listed in red, a legend, then one panel per domain and one for the
/// devices without a domain, each on its own broken log axis (see <see cref="AddressAxis"/>).
/// Takes the violations from the caller, so any source can feed it: the model's replay
/// (<see cref="ReplayReport"/>), the invariant checker run on an implementation's exported
/// state, a refinement counterexample. Same input, same bytes.
/// </summary>
public static class IovaSpaceSvgRenderer
{
    /// <param name="onlyPanelsWithViolations">Leave out the panels where no violation is drawn
    /// (a note says how many), to keep a counterexample's picture on what broke.</param>
    public static string Render(SystemState state, IReadOnlyList<Violation> violations, string title,
        IReadOnlyList<string>? notes = null, bool onlyPanelsWithViolations = false) =>
        Render(IovaSpaceView.Of(state), violations, title, notes ?? [], onlyPanelsWithViolations);

    public static string Render(IovaSpaceView view, IReadOnlyList<Violation> violations, string title, IReadOnlyList<string> notes,
        bool onlyPanelsWithViolations = false)
    {
        var canvas = new SvgCanvas(Layout.Width);
        var placement = new ViolationPlacement(view, violations.Where(v => v is not null));
        var panels = PanelBuilder.Build(view, placement);
        int left = 0;
        if (onlyPanelsWithViolations && panels.Any(p => p.Violations.Count > 0))
        {
            left = panels.Count(p => p.Violations.Count == 0);
            panels = panels.Where(p => p.Violations.Count > 0).ToList();
        }
        if (left > 0)
            notes = [.. notes, $"{left} more {(left == 1 ? "panel" : "panels")} without violations not drawn."];
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

        y = PaintViolations(canvas, placement, violations.Count(v => v is not null), y, textChars);

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
    private static double PaintViolations(SvgCanvas canvas, ViolationPlacement placement, int violationCount, double y, int textChars)
    {
        if (placement.All.Count == 0) return y;
        canvas.Add(new SvgText(Layout.Margin, y + Layout.HeadingSize,
            violationCount == 1 ? "1 invariant violation" : $"{violationCount} invariant violations" +
            (placement.All.Count == violationCount ? "" : $", drawn as {placement.All.Count}"),
            Layout.HeadingSize, Palette.ViolationRed, Bold: true));
        y += Layout.HeadingSize + 6;
        foreach (var v in placement.All.Take(Layout.MaxViolationRows))
        {
            var places = placement.PlacesOf[v.Number];
            string where = places.Count == 0
                ? "(not drawn: " + (v.Range is null ? "it names no range)" : "its range lies in no panel)")
                : "(drawn in " + string.Join(", ", places.Select(p => p.DomainId is int d ? $"domain {d}" : "the devices-without-a-domain panel")) + ")";
            string device = v.First.Device is int dev ? $" dev {dev}" : "";
            string range = v.Range is AddrRange r ? $" {PanelPainter.RangeText(r)} ({Sizes.Human(r.Size)})" : "";
            string count = v.Count == 1 ? "" : $" {v.Count} violations on adjacent ranges, the first:";
            var lines = TextWrap.Lines($"{v.Tag} {v.First.Invariant}{device}{range}:{count} {v.First.Explanation} {where}", textChars - 2);
            for (int i = 0; i < lines.Count; i++)
            {
                canvas.Add(new SvgText(Layout.Margin + (i == 0 ? 0 : 16), y + Layout.BodySize, lines[i], Layout.BodySize, i == 0 ? Palette.ViolationRed : Palette.Ink));
                y += Layout.BodySize + 4;
            }
        }
        if (placement.All.Count > Layout.MaxViolationRows)
        {
            canvas.Add(new SvgText(Layout.Margin, y + Layout.BodySize,
                $"… and {placement.All.Count - Layout.MaxViolationRows} more (verify replay lists them all)", Layout.BodySize, Palette.Muted));
            y += Layout.BodySize + 4;
        }
        return y + 8;
    }
}
