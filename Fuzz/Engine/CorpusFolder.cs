namespace DmaVerify.Fuzz.Engine;

/// <summary>
/// A corpus folder on disk: files named by the SHA-1 of their contents, written atomically.
/// Reading skips sub-folders and dot-files (temporaries of a writer that was killed), and
/// remembers what it has seen so a reload only returns files other jobs added since.
/// </summary>
public sealed class CorpusFolder(string path)
{
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    public string Path { get; } = path;

    /// <summary>Files not seen before, smallest first (then by name: a stable order).</summary>
    public IReadOnlyList<(string Name, byte[] Data)> ReadNew()
    {
        if (!Directory.Exists(Path)) return [];
        var found = new List<(string Name, byte[] Data)>();
        foreach (string file in Directory.EnumerateFiles(Path))
        {
            string name = System.IO.Path.GetFileName(file);
            if (name.StartsWith('.') || _known.Contains(name)) continue;
            byte[] data;
            try { data = File.ReadAllBytes(file); }
            catch (IOException) { continue; } // removed or being replaced meanwhile: next reload
            catch (UnauthorizedAccessException) { continue; }
            _known.Add(name);
            found.Add((name, data));
        }
        found.Sort((a, b) => a.Data.Length != b.Data.Length ? a.Data.Length.CompareTo(b.Data.Length) : string.CompareOrdinal(a.Name, b.Name));
        return found;
    }

    /// <summary>Removes what writers killed mid-write left behind (see <see cref="AtomicFile"/>).</summary>
    public int RemoveDeadWritersTemporaries() => AtomicFile.RemoveDeadWritersTemporaries(Path);

    /// <summary>Writes an input under its SHA-1 name (unless a file of that name exists).</summary>
    public string Add(ReadOnlySpan<byte> data)
    {
        string sha1 = AtomicFile.Sha1Hex(data);
        _known.Add(sha1);
        string file = System.IO.Path.Combine(Path, sha1);
        if (!File.Exists(file)) AtomicFile.Write(file, data);
        return file;
    }
}
