using System.Globalization;

namespace DmaVerify.Properties;

/// <summary>
/// FsCheck's (seed, gamma[, size]) triple. With a size, FsCheck runs exactly one case: the one
/// that failed. Written and read as <c>seed,gamma[,size]</c>, the value of
/// <see cref="PropertyEnvironment.ReplayVariable"/>.
/// </summary>
public sealed record ReplaySeed(ulong Seed, ulong Gamma, int? Size = null)
{
    public override string ToString() => Size is int s ? $"{Seed},{Gamma},{s}" : $"{Seed},{Gamma}";

    public static bool TryParse(string? text, out ReplaySeed? replay, out string error)
    {
        replay = null;
        error = "";
        if (string.IsNullOrWhiteSpace(text)) { error = "empty replay value"; return false; }
        var parts = text.Trim().Trim('(', ')').Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length is < 2 or > 3) { error = $"replay '{text}' must be seed,gamma[,size]"; return false; }
        if (!ulong.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed))
        { error = $"replay '{text}': seed '{parts[0]}' is not an unsigned 64-bit number"; return false; }
        if (!ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out ulong gamma) || gamma % 2 == 0)
        { error = $"replay '{text}': gamma '{parts[1]}' must be an odd unsigned 64-bit number"; return false; }
        int? size = null;
        if (parts.Length == 3)
        {
            if (!int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int s))
            { error = $"replay '{text}': size '{parts[2]}' is not a non-negative number"; return false; }
            size = s;
        }
        replay = new ReplaySeed(seed, gamma, size);
        return true;
    }
}
