using System.Globalization;
using System.Xml;
using System.Xml.Linq;

namespace DmaVerify.Tests.Common;

/// <summary>An SVG document parsed with System.Xml (which refuses anything not well-formed),
/// with the handful of queries the tests ask of it.</summary>
public sealed class SvgPicture
{
    public static readonly XNamespace Ns = "http://www.w3.org/2000/svg";

    public XDocument Document { get; }
    public string Source { get; }

    public SvgPicture(string svg)
    {
        Source = svg;
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, CheckCharacters = true };
        using var reader = XmlReader.Create(new StringReader(svg), settings);
        Document = XDocument.Load(reader);
    }

    public XElement Root => Document.Root!;
    public double Width => Number(Root, "width");
    public double Height => Number(Root, "height");

    public IEnumerable<XElement> Texts => Root.Descendants(Ns + "text");
    public IEnumerable<string> TextValues => Texts.Select(t => t.Value);

    /// <summary>Bars: rectangles with a tooltip (their first word is the tag).</summary>
    public IEnumerable<Box> Bars => Root.Descendants(Ns + "rect").Where(r => r.Element(Ns + "title") is not null).Select(Box.Of);

    public Box Bar(string tagAndRangePrefix) => Bars.Single(b => b.Tooltip.StartsWith(tagAndRangePrefix, StringComparison.Ordinal));

    public static double Number(XElement e, string attribute) =>
        double.Parse(e.Attribute(attribute)?.Value ?? throw new InvalidDataException($"<{e.Name.LocalName}> has no {attribute}"), CultureInfo.InvariantCulture);

    public sealed record Box(double X, double Y, double Width, double Height, string Fill, string Stroke, string Tooltip)
    {
        public double Right => X + Width;
        public double Bottom => Y + Height;

        public static Box Of(XElement rect) => new(Number(rect, "x"), Number(rect, "y"), Number(rect, "width"), Number(rect, "height"),
            rect.Attribute("fill")?.Value ?? "", rect.Attribute("stroke")?.Value ?? "none", rect.Element(Ns + "title")?.Value ?? "");
    }
}
