namespace DmaVerify.Fuzz.TestTargets;

/// <summary>Thrown by the planted targets, so a test can tell the planted crash from any other.</summary>
public sealed class PlantedBugException(string message) : Exception(message);

/// <summary>
/// Fuzz targets with planted bugs behind exact byte comparisons, one branch per byte, so only
/// coverage guidance finds them quickly.
/// </summary>
public static class PlantedCrash
{
    /// <summary>Throws when the input starts with "DMA!".</summary>
    public static void Run(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 4 && data[0] == (byte)'D')
            if (data[1] == (byte)'M')
                if (data[2] == (byte)'A')
                    if (data[3] == (byte)'!')
                        throw new PlantedBugException("planted crash: input starts with DMA!");
    }

    /// <summary>Never returns when the input starts with "HANG"; otherwise returns.</summary>
    public static void Hang(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 4 && data[0] == (byte)'H' && data[1] == (byte)'A' && data[2] == (byte)'N' && data[3] == (byte)'G')
            while (true) Thread.Sleep(1000);
    }

    /// <summary>Kills the process (as a stack overflow or access violation would) when the input
    /// starts with "KILL".</summary>
    public static void Die(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 4 && data[0] == (byte)'K' && data[1] == (byte)'I' && data[2] == (byte)'L' && data[3] == (byte)'L')
            Environment.FailFast("planted fatal error: input starts with KILL");
    }

    /// <summary>A plain target without a bug, for throughput measurements.</summary>
    public static void Nop(ReadOnlySpan<byte> data)
    {
        int sum = 0;
        foreach (byte b in data) sum += b;
        GC.KeepAlive(sum);
    }
}

/// <summary>Planted hangs and fatal errors in one target, to show the AFL++ adapter survives both.</summary>
public static class PlantedHangAndFatal
{
    public static void Run(ReadOnlySpan<byte> data)
    {
        PlantedCrash.Hang(data);
        PlantedCrash.Die(data);
    }
}
