using DmaVerify.Pictures.Svg;

namespace DmaVerify.Tests.ShowSvg;

/// <summary>The pictures rendered by a real SVG renderer (librsvg's rsvg-convert) to PNG, and
/// the PNG decoded: it must be whole, of the SVG's size, and show what the SVG draws.</summary>
public sealed class RsvgRenderTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "dmaverify-rsvg-" + Guid.NewGuid().ToString("N"));

    public RsvgRenderTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private PngImage Render(string svg, string name)
    {
        string svgFile = Path.Combine(_dir, name + ".svg");
        string pngFile = Path.Combine(_dir, name + ".png");
        File.WriteAllText(svgFile, svg);
        RsvgConvert.ToPng(svgFile, pngFile);
        return PngImage.Decode(File.ReadAllBytes(pngFile));
    }

    private static int Near(PngImage png, string hex) =>
        png.CountNear(Convert.ToByte(hex[1..3], 16), Convert.ToByte(hex[3..5], 16), Convert.ToByte(hex[5..7], 16));

    [RsvgFact]
    public void SocVcmRendersToAWholePngOfItsSize()
    {
        string svg = DocsPictures.SocVcmSvg();
        var picture = new SvgPicture(svg);
        var png = Render(svg, "soc");
        Assert.Equal((int)picture.Width, png.Width);
        Assert.Equal((int)Math.Ceiling(picture.Height), png.Height);
        Assert.True(Near(png, Palette.Mapping.Fill) > 500, "the blue of live mappings is missing");
        Assert.True(Near(png, Palette.FlushQueue.Fill) > 200, "the orange of the flush-queue entry is missing");
        Assert.Equal(0, Near(png, Palette.Violation.Fill));
    }

    [RsvgFact]
    public void CounterexampleRendersWithItsViolationsInRed()
    {
        string svg = DocsPictures.CounterexampleSvg();
        var png = Render(svg, "counterexample");
        Assert.Equal(1280, png.Width);
        Assert.True(png.Height > 400);
        Assert.True(Near(png, Palette.Violation.Fill) > 1000, "the violation bars are not drawn in red");
    }

    [RsvgFact]
    public void ABrokenSvgIsRefusedByTheRenderer()
    {
        // The check can fail: a truncated document does not render.
        string svg = DocsPictures.SocVcmSvg();
        var e = Assert.Throws<InvalidOperationException>(() => Render(svg[..(svg.Length / 2)], "broken"));
        Assert.Contains("rsvg-convert failed", e.Message);
    }

    [RsvgFact]
    public void ACorruptPngIsRefusedByTheDecoder()
    {
        string svgFile = Path.Combine(_dir, "ok.svg");
        string pngFile = Path.Combine(_dir, "ok.png");
        File.WriteAllText(svgFile, DocsPictures.SocVcmSvg());
        RsvgConvert.ToPng(svgFile, pngFile);
        var bytes = File.ReadAllBytes(pngFile);
        bytes[bytes.Length / 2] ^= 0x5A;
        Assert.Throws<InvalidDataException>(() => PngImage.Decode(bytes));
        Assert.Throws<InvalidDataException>(() => PngImage.Decode(bytes[..(bytes.Length / 3)]));
    }
}
