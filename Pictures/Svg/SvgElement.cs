using System.Globalization;
using System.Xml;

namespace DmaVerify.Pictures.Svg;

/// <summary>One drawing primitive of an <see cref="SvgCanvas"/>. Elements are collected first and
/// written once the picture's height is known.</summary>
internal abstract record SvgElement
{
    public abstract void Write(XmlWriter xml);

    /// <summary>Coordinates with at most one decimal and the invariant culture, so the same
    /// picture always gives the same bytes.</summary>
    public static string Num(double value) =>
        Math.Round(value, 1, MidpointRounding.AwayFromZero).ToString("0.#", CultureInfo.InvariantCulture);

    /// <summary>Text as XML can carry it: characters XML forbids (control characters, lone
    /// surrogates) become '?'. Escaping of &amp;, &lt; and &gt; is XmlWriter's job.</summary>
    public static string Clean(string text)
    {
        if (text.All(c => XmlConvert.IsXmlChar(c))) return text;
        var chars = text.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            if (i + 1 < chars.Length && XmlConvert.IsXmlSurrogatePair(chars[i + 1], chars[i])) { i++; continue; }
            if (!XmlConvert.IsXmlChar(chars[i])) chars[i] = '?';
        }
        return new string(chars);
    }

    protected static void Attr(XmlWriter xml, string name, double value) => xml.WriteAttributeString(name, Num(value));
    protected static void Attr(XmlWriter xml, string name, string value) => xml.WriteAttributeString(name, Clean(value));
}

/// <summary>A rectangle; <see cref="Tooltip"/> becomes its SVG title (shown on hover).</summary>
internal sealed record SvgRect(double X, double Y, double Width, double Height, string Fill, string Stroke = "none",
    double StrokeWidth = 1, string? Tooltip = null, double Opacity = 1, string? Dash = null) : SvgElement
{
    public override void Write(XmlWriter xml)
    {
        xml.WriteStartElement("rect");
        Attr(xml, "x", X);
        Attr(xml, "y", Y);
        Attr(xml, "width", Math.Max(0, Width));
        Attr(xml, "height", Math.Max(0, Height));
        Attr(xml, "fill", Fill);
        if (Opacity < 1) Attr(xml, "fill-opacity", Opacity);
        if (Stroke != "none")
        {
            Attr(xml, "stroke", Stroke);
            Attr(xml, "stroke-width", StrokeWidth);
            if (Dash is not null) Attr(xml, "stroke-dasharray", Dash);
        }
        if (Tooltip is not null) xml.WriteElementString("title", Clean(Tooltip));
        xml.WriteEndElement();
    }
}

internal sealed record SvgLine(double X1, double Y1, double X2, double Y2, string Stroke, double StrokeWidth = 1, string? Dash = null) : SvgElement
{
    public override void Write(XmlWriter xml)
    {
        xml.WriteStartElement("line");
        Attr(xml, "x1", X1);
        Attr(xml, "y1", Y1);
        Attr(xml, "x2", X2);
        Attr(xml, "y2", Y2);
        Attr(xml, "stroke", Stroke);
        Attr(xml, "stroke-width", StrokeWidth);
        if (Dash is not null) Attr(xml, "stroke-dasharray", Dash);
        xml.WriteEndElement();
    }
}

internal enum TextAnchor { Start, Middle, End }

/// <summary>A line of text at a baseline; <see cref="Rotate"/> turns it about its anchor point
/// (degrees, counter-clockwise when negative, as SVG does).</summary>
internal sealed record SvgText(double X, double Y, string Text, double Size, string Fill = Palette.Ink, bool Bold = false,
    TextAnchor Anchor = TextAnchor.Start, double Rotate = 0) : SvgElement
{
    public override void Write(XmlWriter xml)
    {
        xml.WriteStartElement("text");
        Attr(xml, "x", X);
        Attr(xml, "y", Y);
        Attr(xml, "font-size", Size);
        if (Bold) Attr(xml, "font-weight", "bold");
        if (Fill != Palette.Ink) Attr(xml, "fill", Fill);
        if (Anchor != TextAnchor.Start) Attr(xml, "text-anchor", Anchor == TextAnchor.Middle ? "middle" : "end");
        if (Rotate != 0) Attr(xml, "transform", $"rotate({Num(Rotate)} {Num(X)} {Num(Y)})");
        xml.WriteString(Clean(Text));
        xml.WriteEndElement();
    }
}
