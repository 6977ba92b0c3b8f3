namespace DmaVerify.Pictures.Svg;

/// <summary>Breaks text into lines of at most n characters, at spaces where it can.</summary>
internal static class TextWrap
{
    public static List<string> Lines(string text, int maxChars)
    {
        maxChars = Math.Max(8, maxChars);
        var lines = new List<string>();
        string rest = text.Trim();
        while (rest.Length > maxChars)
        {
            int cut = rest.LastIndexOf(' ', maxChars);
            if (cut <= maxChars / 3) cut = maxChars; // one long word: break it
            lines.Add(rest[..cut].TrimEnd());
            rest = rest[cut..].TrimStart();
        }
        lines.Add(rest);
        return lines;
    }

    /// <summary>The text, shortened with "…" to at most n characters.</summary>
    public static string Fit(string text, int maxChars) =>
        text.Length <= maxChars ? text : maxChars <= 1 ? "" : text[..(maxChars - 1)] + "…";
}
