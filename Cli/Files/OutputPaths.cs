using DmaVerify.Fuzz.Engine;

namespace DmaVerify.Cli.Files;

/// <summary>
/// Checks a verb makes on its output paths before any work, so a typo costs nothing: each
/// returns why the path cannot be used, in a few words, or null. Nothing is left behind: a
/// folder that does not exist yet is not made, and the probe file that shows a folder accepts
/// new files is removed again.
/// </summary>
internal static class OutputPaths
{
    /// <summary>Why a file cannot be written (created, or replaced) at <paramref name="path"/>.</summary>
    public static string? WhyNotWritableFile(string path)
    {
        if (!TryFull(path, out string full, out string? why)) return why;
        if (Directory.Exists(full)) return "it is a folder";
        if (File.Exists(full))
        {
            try
            {
                using (new FileStream(full, FileMode.Open, FileAccess.Write)) { }
                return null;
            }
            catch (Exception e) when (FileErrors.IsFileError(e)) { return FileErrors.Describe(e); }
        }
        return WhyNoNewFilesUnder(Path.GetDirectoryName(full));
    }

    /// <summary>Why <paramref name="path"/> cannot be a folder to write into (an existing one,
    /// or one that can be made).</summary>
    public static string? WhyNotWritableFolder(string path)
    {
        if (!TryFull(path, out string full, out string? why)) return why;
        if (File.Exists(full)) return "it is a file, not a folder";
        return WhyNoNewFilesUnder(full);
    }

    /// <summary>Why <paramref name="path"/> is not a folder that can be read.</summary>
    public static string? WhyNotReadableFolder(string path)
    {
        if (!TryFull(path, out string full, out string? why)) return why;
        if (File.Exists(full)) return "it is a file, not a folder";
        if (!Directory.Exists(full)) return "no such folder";
        try
        {
            using var entries = Directory.EnumerateFileSystemEntries(full).GetEnumerator();
            entries.MoveNext();
            return null;
        }
        catch (Exception e) when (FileErrors.IsFileError(e)) { return FileErrors.Describe(e); }
    }

    /// <summary>Why a file cannot be created in <paramref name="folder"/> or, when it does not
    /// exist yet, in its nearest existing ancestor (where the missing folders would be made).</summary>
    private static string? WhyNoNewFilesUnder(string? folder)
    {
        string? existing = folder;
        while (existing is not null && !Directory.Exists(existing))
        {
            if (File.Exists(existing)) return $"{existing} is a file, not a folder";
            existing = Path.GetDirectoryName(existing);
        }
        if (existing is null) return "no existing folder above it";
        string probe = Path.Combine(existing, $".dmaverify-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
            return null;
        }
        catch (Exception e) when (FileErrors.IsFileError(e))
        {
            return $"cannot create files in {existing}: {FileErrors.Describe(e)}";
        }
    }

    private static bool TryFull(string path, out string full, out string? why)
    {
        full = "";
        why = null;
        if (string.IsNullOrWhiteSpace(path))
        {
            why = "the path is empty";
            return false;
        }
        if (path.Contains('\0'))
        {
            why = "the path contains a NUL character";
            return false;
        }
        try
        {
            full = Path.GetFullPath(path);
            return true;
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException or System.Security.SecurityException)
        {
            why = FileErrors.Describe(e);
            return false;
        }
    }
}
