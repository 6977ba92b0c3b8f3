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

    /// <summary>A campaign that keeps writing: one branch per (position, value class) of the
    /// first eight bytes (64 edges) makes the corpus grow steadily, and a crash behind "DMA",
    /// a key byte and "!" is found after a while. The key comes from DMAVERIFY_TEST_BUSY_KEY
    /// (default '!'), so each run of the tests that kill a campaign at random points looks for
    /// a crash the corpus does not lead straight to.</summary>
    public static void Busy(ReadOnlySpan<byte> data)
    {
        int score = 0;
        for (int i = 0; i < data.Length && i < 8; i++)
        {
            switch (i * 8 + (data[i] & 7))
            {
                case 0: score += 1; break;
                case 1: score -= 2; break;
                case 2: score ^= 3; break;
                case 3: score |= 4; break;
                case 4: score &= 5; break;
                case 5: score += 6; break;
                case 6: score -= 7; break;
                case 7: score ^= 8; break;
                case 8: score |= 9; break;
                case 9: score &= 10; break;
                case 10: score += 11; break;
                case 11: score -= 12; break;
                case 12: score ^= 13; break;
                case 13: score |= 14; break;
                case 14: score &= 15; break;
                case 15: score += 16; break;
                case 16: score -= 17; break;
                case 17: score ^= 18; break;
                case 18: score |= 19; break;
                case 19: score &= 20; break;
                case 20: score += 21; break;
                case 21: score -= 22; break;
                case 22: score ^= 23; break;
                case 23: score |= 24; break;
                case 24: score &= 25; break;
                case 25: score += 26; break;
                case 26: score -= 27; break;
                case 27: score ^= 28; break;
                case 28: score |= 29; break;
                case 29: score &= 30; break;
                case 30: score += 31; break;
                case 31: score -= 32; break;
                case 32: score ^= 33; break;
                case 33: score |= 34; break;
                case 34: score &= 35; break;
                case 35: score += 36; break;
                case 36: score -= 37; break;
                case 37: score ^= 38; break;
                case 38: score |= 39; break;
                case 39: score &= 40; break;
                case 40: score += 41; break;
                case 41: score -= 42; break;
                case 42: score ^= 43; break;
                case 43: score |= 44; break;
                case 44: score &= 45; break;
                case 45: score += 46; break;
                case 46: score -= 47; break;
                case 47: score ^= 48; break;
                case 48: score |= 49; break;
                case 49: score &= 50; break;
                case 50: score += 51; break;
                case 51: score -= 52; break;
                case 52: score ^= 53; break;
                case 53: score |= 54; break;
                case 54: score &= 55; break;
                case 55: score += 56; break;
                case 56: score -= 57; break;
                case 57: score ^= 58; break;
                case 58: score |= 59; break;
                case 59: score &= 60; break;
                case 60: score += 61; break;
                case 61: score -= 62; break;
                case 62: score ^= 63; break;
                case 63: score |= 64; break;
            }
        }
        GC.KeepAlive(score);
        if (data.Length >= 5 && data[0] == (byte)'D')
            if (data[1] == (byte)'M')
                if (data[2] == (byte)'A')
                    if (data[3] == BusyKey)
                        if (data[4] == (byte)'!')
                            throw new PlantedBugException("planted crash: DMA, the key, !");
    }

    private static readonly byte BusyKey = Environment.GetEnvironmentVariable("DMAVERIFY_TEST_BUSY_KEY") is [char key] ? (byte)key : (byte)'!';

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
