using System.Text;
using DmaVerify.Fuzz.Engine;

namespace DmaVerify.Cli.Files;

/// <summary>
/// A scenario file read line by line as strict UTF-8, for files too large to hold whole
/// (<see cref="StreamAbove"/>): memory stays that of one line whatever the file's length. A line
/// that is not text (a NUL, an invalid UTF-8 sequence) stops the reading with
/// <see cref="NotTextException"/>, naming the line.
/// </summary>
internal static class TextLines
{
    /// <summary>Files above this size are streamed; smaller ones are read whole (<see cref="TextFile"/>).</summary>
    public const long StreamAbove = 4L << 20;

    /// <summary>Tests lower the threshold on their own thread to stream small files.</summary>
    [ThreadStatic] internal static long? StreamAboveForTests;

    public sealed class NotTextException(string message) : Exception(message);

    /// <summary>Whether <paramref name="path"/> is a regular file larger than <see cref="StreamAbove"/>.</summary>
    public static bool IsLarge(string path)
    {
        try
        {
            var info = new FileInfo(path);
            return info.Exists && info.Length > (StreamAboveForTests ?? StreamAbove);
        }
        catch (Exception e) when (FileErrors.IsFileError(e) || e is ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Whether the first bytes of the file look like text (no NUL in the first 4 KiB).</summary>
    public static bool StartsAsText(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            Span<byte> head = stackalloc byte[4096];
            int n = stream.Read(head);
            return head[..n].IndexOf((byte)0) < 0;
        }
        catch (Exception e) when (FileErrors.IsFileError(e))
        {
            return false;
        }
    }

    /// <summary>The lines of the file (without line ends). Enumerating opens the file afresh.</summary>
    public static IEnumerable<string> Read(string path)
    {
        using var reader = new StreamReader(path, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16);
        long lineNo = 0;
        while (true)
        {
            string? line;
            try
            {
                line = reader.ReadLine();
            }
            catch (DecoderFallbackException)
            {
                throw new NotTextException($"not UTF-8 text (an invalid byte on line {lineNo + 1})");
            }
            if (line is null) yield break;
            lineNo++;
            if (line.Contains('\0')) throw new NotTextException($"not a text file (a NUL byte on line {lineNo})");
            yield return line;
        }
    }
}
