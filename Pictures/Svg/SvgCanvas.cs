using System.Text;
using System.Xml;

namespace DmaVerify.Pictures.Svg;

/// <summary>
/// Collects <see cref="SvgElement"/>s and writes them as one SVG document of a fixed width and
/// the height the content reached. Output is deterministic: elements in the order added,
/// numbers in the invariant culture, "\n" line ends, UTF-8 without a byte-order mark.
/// Text is set in a monospace font so its width can be known without measuring it.
/// </summary>
internal sealed class SvgCanvas(double width)
{
    /// <summary>Advance of one character of the monospace font, per unit of font size
    /// (DejaVu Sans Mono and Liberation Mono are 0.6; a little slack for others).</summary>
    public const double CharWidth = 0.62;

    public const string HatchPattern = "hatch";

    private readonly List<SvgElement> _elements = [];

    public double Width { get; } = width;

    public void Add(SvgElement element) => _elements.Add(element);

    public static double TextWidth(string text, double size) => text.Length * size * CharWidth;

    /// <summary>How many characters of a font size fit in a width.</summary>
    public static int CharsThatFit(double width, double size) => (int)Math.Floor(width / (size * CharWidth));

    public string ToSvg(double height, string title)
    {
        var settings = new XmlWriterSettings
        {
            Indent = true,
            IndentChars = " ",
            NewLineChars = "\n",
            NewLineHandling = NewLineHandling.Replace,
            Encoding = new UTF8Encoding(false),
        };
        using var stream = new MemoryStream();
        using (var xml = XmlWriter.Create(stream, settings))
        {
            xml.WriteStartDocument();
            xml.WriteStartElement("svg", "http://www.w3.org/2000/svg");
            xml.WriteAttributeString("width", SvgElement.Num(Width));
            xml.WriteAttributeString("height", SvgElement.Num(height));
            xml.WriteAttributeString("viewBox", $"0 0 {SvgElement.Num(Width)} {SvgElement.Num(height)}");
            // Keep runs of spaces: the key table lines up its columns with them.
            xml.WriteAttributeString("xml", "space", null, "preserve");
            xml.WriteAttributeString("font-family", "DejaVu Sans Mono, Liberation Mono, Menlo, Consolas, monospace");
            xml.WriteElementString("title", SvgElement.Clean(title));
            WriteDefs(xml);
            new SvgRect(0, 0, Width, height, Palette.Background).Write(xml);
            foreach (var e in _elements)
                e.Write(xml);
            xml.WriteEndElement();
            xml.WriteEndDocument();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>A diagonal hatch for things that are not memory (reserved ranges, limits).</summary>
    private static void WriteDefs(XmlWriter xml)
    {
        xml.WriteStartElement("defs");
        xml.WriteStartElement("pattern");
        xml.WriteAttributeString("id", HatchPattern);
        xml.WriteAttributeString("width", "6");
        xml.WriteAttributeString("height", "6");
        xml.WriteAttributeString("patternUnits", "userSpaceOnUse");
        xml.WriteAttributeString("patternTransform", "rotate(45)");
        new SvgRect(0, 0, 6, 6, Palette.Reserved).Write(xml);
        new SvgLine(0, 0, 0, 6, Palette.ReservedHatch, 2.5).Write(xml);
        xml.WriteEndElement();
        xml.WriteEndElement();
    }
}
