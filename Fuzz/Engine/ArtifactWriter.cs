namespace DmaVerify.Fuzz.Engine;

/// <summary>
/// Writes a finding (crash-, timeout-, minimized- file) so that it is never lost: atomically at
/// -artifact_prefix, or, when that cannot be written (a folder removed, the disk full, a bad
/// prefix), in the first corpus folder, then in the working folder; the log says where it went.
/// When nothing can be written the input is printed in Base64, whatever its size. Never throws:
/// it runs on the watchdog thread too, where an exception would end the process with the input
/// unsaved.
/// </summary>
public sealed class ArtifactWriter(string prefix, string? corpusFolder, TextWriter log, string? workingFolder = null)
{
    /// <summary>Writes <paramref name="data"/> as KIND + SHA-1; returns the path, or null when no
    /// place took it (the Base64 line is then the only copy).</summary>
    public string? Write(string kind, ReadOnlySpan<byte> data) => WriteNamed(kind + AtomicFile.Sha1Hex(data), data);

    /// <summary>Writes <paramref name="data"/> under <paramref name="name"/> (after the prefix).</summary>
    public string? WriteNamed(string name, ReadOnlySpan<byte> data)
    {
        var failures = new List<string>();
        foreach (string candidate in Candidates(name))
        {
            try
            {
                AtomicFile.Write(candidate, data);
            }
            catch (Exception e) when (FileErrors.IsFileError(e) || e is ArgumentException)
            {
                failures.Add($"{candidate}: {FileErrors.Describe(e)}");
                continue;
            }
            Log(failures.Count == 0
                ? $"artifact_prefix='{prefix}'; Test unit written to {candidate}"
                : $"artifact_prefix='{prefix}' cannot be written ({string.Join("; ", failures)}); Test unit written to {candidate} instead");
            if (data.Length <= 256) Log($"Base64: {Convert.ToBase64String(data)}");
            return candidate;
        }
        Log($"ERROR: {name} could not be written anywhere ({string.Join("; ", failures)}); it is only here:");
        Log($"Base64: {Convert.ToBase64String(data)}");
        return null;
    }

    private IEnumerable<string> Candidates(string name)
    {
        yield return prefix + name;
        if (corpusFolder is not null) yield return Path.Combine(corpusFolder, name);
        yield return Path.Combine(workingFolder ?? Directory.GetCurrentDirectory(), name);
    }

    private void Log(string line)
    {
        try { log.WriteLine(line); }
        catch (Exception e) when (FileErrors.IsFileError(e) || e is ObjectDisposedException) { } // the file is what matters
    }
}
