using System.Text;
using DmaVerify.Fuzz.Engine;

namespace DmaVerify.Cli.Files;

/// <summary>
/// Reads a scenario file as UTF-8 text, or says in one line why it cannot: the path is empty or
/// a folder, there is no such file, it cannot be read, it is too large to be a scenario, or it
/// is not UTF-8 text (a NUL byte or an invalid sequence, with its offset; a fuzz input is binary).
/// </summary>
internal static class TextFile
{
    /// <summary>Far beyond any scenario (a million ops is ~60 MB); a larger file is a mistake.</summary>
    public const long MaxBytes = 256L << 20;

    public static bool TryRead(string path, out string text, out string problem, out bool binary)
    {
        text = "";
        binary = false;
        problem = "";
        if (string.IsNullOrWhiteSpace(path))
        {
            problem = "the path is empty";
            return false;
        }
        byte[] bytes;
        try
        {
            if (Directory.Exists(path))
            {
                problem = "is a folder, not a scenario file";
                return false;
            }
            var info = new FileInfo(path);
            if (info.Exists && info.Length > MaxBytes)
            {
                problem = $"too large for a scenario ({info.Length} bytes; at most {MaxBytes >> 20} MiB)";
                return false;
            }
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (FileErrors.IsFileError(e) || e is ArgumentException)
        {
            problem = e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : $"cannot read: {FileErrors.Describe(e)}";
            return false;
        }
        int nul = Array.IndexOf(bytes, (byte)0);
        if (nul >= 0)
        {
            binary = true;
            problem = $"not a text file (a NUL byte at offset {nul})";
            return false;
        }
        var body = bytes.AsSpan();
        if (body.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) body = body[3..];
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(body);
            return true;
        }
        catch (DecoderFallbackException e)
        {
            binary = true;
            problem = $"not UTF-8 text (an invalid byte at offset {e.Index + (bytes.Length - body.Length)})";
            return false;
        }
    }
}
