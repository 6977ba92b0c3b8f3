using System.Globalization;
using DmaVerify.Contracts;
using DmaVerify.Pictures.Svg;
using DmaVerify.Model;

namespace DmaVerify.Tests.ShowSvg;

/// <summary>The SVG picture of `verify show --svg`, checked with System.Xml (always) and by
/// looking at its geometry: bars on the right addresses, labels inside their bars, violations
/// red and named where they broke.</summary>
public class SvgRenderingTests
{
    /// <summary>A preset's state after a map, a coherent allocation and an MSI set-up on every
    /// device (whatever each answers).</summary>
    private static SystemState Busy(string preset)
    {
        var model = new ModelSystem(Presets.Get(preset));
        foreach (var device in model.Platform.Devices)
        {
            model.Apply(new Map(device.Id, new PhysAddr(0x4000_0000 + (ulong)device.Id * 0x10_0000), 0x3000, DmaDirection.ToDevice));
            model.Apply(new AllocCoherent(device.Id, new PhysAddr(0x4800_0000 + (ulong)device.Id * 0x10_0000), 0x4000));
            model.Apply(new SetupMsi(device.Id, new PhysAddr(0xFEE0_0000)));
        }
        return model.State;
    }

    private static SvgPicture Draw(SystemState state, IReadOnlyList<Violation>? violations = null) =>
        new(IovaSpaceSvgRenderer.Render(state, violations ?? [], "title"));

    [Theory]
    [MemberData(nameof(PresetData.All), MemberType = typeof(PresetData))]
    public void EveryPresetGivesWellFormedSvgWithEveryDomainAndDevice(string preset)
    {
        var state = Busy(preset);
        var svg = Draw(state);
        Assert.Equal(SvgPicture.Ns + "svg", svg.Root.Name);
        Assert.Equal(1280, svg.Width);
        Assert.True(svg.Height > 100);
        Assert.Equal($"0 0 1280 {SvgPicture.Number(svg.Root, "height").ToString(CultureInfo.InvariantCulture)}", svg.Root.Attribute("viewBox")!.Value);
        foreach (var d in state.Domains)
            Assert.Contains(svg.TextValues, t => t.StartsWith($"domain {d.Id}: ", StringComparison.Ordinal));
        foreach (var dev in state.Devices)
            Assert.Contains(svg.TextValues, t => t.StartsWith($"dev {dev.Id}", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(PresetData.All), MemberType = typeof(PresetData))]
    public void BarsStayInThePlotAndLabelsInsideTheirBars(string preset)
    {
        var svg = Draw(Busy(preset));
        var bars = svg.Bars.ToList();
        Assert.NotEmpty(bars);
        foreach (var bar in bars)
        {
            Assert.True(bar.X >= Layout.PlotLeft - 0.05 && bar.Right <= Layout.PlotRight + 0.05, $"bar outside the plot: {bar}");
            Assert.True(bar.Width >= 1.95, $"bar too thin to see: {bar}");
        }
        // A label set inside a bar (centred) fits between its edges.
        foreach (var text in svg.Texts.Where(t => t.Attribute("text-anchor")?.Value == "middle"))
        {
            double x = SvgPicture.Number(text, "x"), y = SvgPicture.Number(text, "y");
            double size = SvgPicture.Number(text, "font-size");
            var bar = bars.Where(b => y > b.Y && y < b.Bottom && Math.Abs((b.X + b.Right) / 2 - x) < 0.11).ToList();
            Assert.True(bar.Count > 0, $"label '{text.Value}' sits in no bar");
            Assert.True(text.Value.Length * size * SvgCanvas.CharWidth <= bar.Max(b => b.Width), $"label '{text.Value}' is wider than its bar");
        }
    }

    [Theory]
    [MemberData(nameof(PresetData.All), MemberType = typeof(PresetData))]
    public void AxisLabelsDoNotCollide(string preset)
    {
        var svg = Draw(Busy(preset));
        var rotated = svg.Texts.Where(t => t.Attribute("transform") is not null)
            .GroupBy(t => SvgPicture.Number(t, "y"))
            .ToList();
        Assert.NotEmpty(rotated);
        foreach (var axis in rotated)
        {
            var xs = axis.Select(t => SvgPicture.Number(t, "x")).ToList();
            Assert.Equal(xs.Order(), xs);
            for (int i = 1; i < xs.Count; i++)
                Assert.True(xs[i] - xs[i - 1] >= Layout.AxisLabelPitch - 0.1, $"axis labels {axis.ElementAt(i - 1).Value} and {axis.ElementAt(i).Value} overlap");
            Assert.Equal("0x0", axis.First().Value);
            Assert.Equal("2^64", axis.Last().Value);
        }
    }

    [Fact]
    public void TheSameStateGivesTheSameBytesInAnyCulture()
    {
        string first = DocsPictures.SocVcmSvg();
        var culture = CultureInfo.CurrentCulture;
        try
        {
            // A decimal comma (the tests run in globalization-invariant mode, so no named culture).
            var comma = (CultureInfo)CultureInfo.InvariantCulture.Clone();
            comma.NumberFormat.NumberDecimalSeparator = ",";
            comma.NumberFormat.NumberGroupSeparator = ".";
            CultureInfo.CurrentCulture = comma;
            Assert.Equal(first, DocsPictures.SocVcmSvg());
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }
        Assert.DoesNotContain("\r", first);
        Assert.StartsWith("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<svg ", first);
    }

    [Fact]
    public void TextFromTheScenarioIsEscapedAndCleaned()
    {
        var builder = new StateBuilder(Presets.X86Vtd);
        var platform = builder.Platform with
        {
            Devices = builder.Platform.Devices.Select(d => d.Id == 0 ? d with { Name = "nic<b>&\"x\"\u0001" } : d).ToArray(),
        };
        var state = new SystemState { Platform = platform, Devices = builder.State.Devices };
        state.Domains.Add(builder.Domain(0, 0, DomainType.Dma, 0));
        var svg = Draw(state, [new Violation("INV-05", 0, new AddrRange(0x1000, 0x1FFF), "a <wrong> & \"odd\" range\u0007")]);
        Assert.Contains(svg.TextValues, t => t == "dev 0 nic<b>&\"x\"?");
        Assert.Contains("nic&lt;b&gt;&amp;", svg.Source);
        Assert.Contains(svg.TextValues, t => t.Contains("a <wrong> & \"odd\" range?", StringComparison.Ordinal));
        // The check can fail: the same picture with the name written raw is refused by System.Xml.
        Assert.ThrowsAny<System.Xml.XmlException>(() => new SvgPicture(svg.Source.Replace("nic&lt;b&gt;&amp;", "nic<b>&")));
    }

    [Fact]
    public void ViolationsAreRedNamedAndDrawnOnTheBrokenRange()
    {
        var result = MsiBlindCounterexample.Run();
        Assert.Contains(result.Violations, v => v.Invariant == "INV-02");
        Assert.Contains(result.Violations, v => v.Invariant == "INV-03");
        var svg = Draw(result.State, result.Violations);

        var msiWindow = svg.Bars.Single(b => b.Tooltip.Contains("0xFEE00000..0xFEEFFFFF (1 MiB) msi:", StringComparison.Ordinal) && b.Fill == Palette.Msi.Fill
                                             && b.Stroke == Palette.ViolationRed);
        var violations = svg.Bars.Where(b => b.Fill == Palette.Violation.Fill).ToList();
        Assert.Equal(2, violations.Count);
        foreach (var v in violations)
        {
            Assert.Equal(msiWindow.X, v.X, 0.01);
            Assert.Equal(msiWindow.Width, v.Width, 0.01);
        }
        Assert.Contains(svg.TextValues, t => t.StartsWith("V1 INV-02 dev 1", StringComparison.Ordinal));
        Assert.Contains(svg.TextValues, t => t.StartsWith("V2 INV-03 ×256", StringComparison.Ordinal));
        Assert.Contains(svg.TextValues, t => t.StartsWith($"{result.Violations.Count} invariant violations, drawn as 2", StringComparison.Ordinal));
        // The allocation on the window is outlined red; the one beside it is not.
        Assert.Equal(Palette.ViolationRed, svg.Bars.Single(b => b.Tooltip.StartsWith("A1 0xFEE00000..", StringComparison.Ordinal)).Stroke);
        Assert.NotEqual(Palette.ViolationRed, svg.Bars.Single(b => b.Tooltip.StartsWith("A2 0xFEF00000..", StringComparison.Ordinal)).Stroke);
        // INV-03 names no device: it is drawn in the domain whose page table maps the range,
        // not in every domain that has an MSI window.
        string all = string.Join("\n", svg.TextValues);
        Assert.Equal(2, all.Split("(drawn in domain 1)").Length - 1);
        Assert.DoesNotContain("(drawn in domain 1, ", all);
    }

    [Fact]
    public void OverlappingAllocationsAreDrawnOnSeparateRows()
    {
        var b = new StateBuilder(Presets.X86Vtd);
        var domain = b.Domain(0, 0, DomainType.Dma, 0, 1);
        b.Map(0, domain, 0xFFFF_E000, 0x1000_0000, 0x2000);
        StateBuilder.Allocate(domain, 0xFFFF_F000, 0x1000); // the planted overlap (INV-01)
        var violations = InvariantChecker.Check(b.State);
        Assert.Contains(violations, v => v.Invariant == "INV-01");

        var svg = Draw(b.State, violations);
        var first = svg.Bar("A1 0xFFFFE000..0xFFFFFFFF");
        var second = svg.Bar("A2 0xFFFFF000..0xFFFFFFFF");
        Assert.NotEqual(first.Y, second.Y);
        Assert.Equal(first.Right, second.Right, 0.01);
        Assert.Contains(svg.TextValues, t => t.StartsWith("V1 INV-01", StringComparison.Ordinal));
    }

    [Fact]
    public void AViolationWithoutARangeIsListedNotDrawn()
    {
        var svg = Draw(Busy(Presets.X86Vtd), [new Violation("INV-10", 0, null, "unmap of an unknown handle succeeded")]);
        Assert.Contains(svg.TextValues, t => t.StartsWith("V1 INV-10 dev 0: unmap of an unknown handle succeeded (not drawn: it names no range)", StringComparison.Ordinal));
        Assert.DoesNotContain(svg.Bars, b => b.Fill == Palette.Violation.Fill);
    }

    [Fact]
    public void ACleanStateHasNoRed()
    {
        var svg = new SvgPicture(DocsPictures.SocVcmSvg());
        Assert.DoesNotContain(Palette.ViolationRed, svg.Source, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Palette.Violation.Fill, svg.Source, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void DeviceLimitsAndWindowsAreDrawnPerDevice()
    {
        string Texts(string preset) => string.Join("\n", Draw(Busy(preset)).TextValues);
        Assert.Contains("GART aperture", Texts(Presets.K8Gart));
        Assert.Contains("bus limit 0x3FFFFFFF", Texts(Presets.Direct));
        Assert.Contains("swiotlb", Texts(Presets.Direct));
        Assert.Contains("TCE window", Texts(Presets.PowerTce));
        string soc = string.Join("\n", new SvgPicture(DocsPictures.SocVcmSvg()).TextValues);
        Assert.Contains("Q1 flush queue", soc);
        Assert.Contains("page table shared by IOMMUs 0, 1", soc);
        Assert.Contains("dma_mask 0xFFFFFFFFFFFF", soc);
    }
}
