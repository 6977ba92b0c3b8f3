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

    /// <summary>Removes the temporaries that writers killed mid-write left in <paramref name="folder"/>
    /// (their process is gone); returns how many. Live writers' files are left alone.</summary>
    public static int RemoveDeadWritersTemporaries(string folder)
    {
        int removed = 0;
        try
        {
            foreach (string file in Directory.EnumerateFiles(folder, TempPrefix + "*"))
            {
                string rest = Path.GetFileName(file)[TempPrefix.Length..];
                int dash = rest.IndexOf('-');
                if (dash <= 0 || !int.TryParse(rest[..dash], out int pid) || IsRunning(pid)) continue;
                try { File.Delete(file); removed++; }
                catch (Exception e) when (FileErrors.IsFileError(e)) { }
            }
        }
        catch (Exception e) when (FileErrors.IsFileError(e)) { }
        return removed;
    }

    private static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    public static string Sha1Hex(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA1.HashData(data));
}
