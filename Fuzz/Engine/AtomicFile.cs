using System.Security.Cryptography;

namespace DmaVerify.Fuzz.Engine;

/// <summary>Writes files the way the engine promises: into a hidden temporary file in the same
/// folder, then renamed over the final name, so a reader (or a killed engine) sees a whole file
/// or none. Corpus loading ignores the dot-named temporaries.</summary>
public static class AtomicFile
{
    public const string TempPrefix = ".tmp-";

    public static void Write(string path, ReadOnlySpan<byte> data)
    {
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(folder);
        string temp = Path.Combine(folder, $"{TempPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            stream.Write(data);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    public static string Sha1Hex(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA1.HashData(data));
}
