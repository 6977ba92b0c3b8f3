namespace DmaVerify.Optimized.PageTables;

/// <summary>
/// Bit helpers for the page-table arithmetic. Pure: integer operations only (no intrinsics, no
/// loops), so the IL-to-Z3 lifter can take them as they are.
/// </summary>
public static class Bits
{
    /// <summary>The lowest set bit of <paramref name="x"/> as a value (0 for 0).</summary>
    public static ulong LowestSetBit(ulong x) => x & (0UL - x);

    /// <summary>The highest set bit of <paramref name="x"/> as a value (0 for 0).</summary>
    public static ulong HighestSetBit(ulong x)
    {
        x |= x >> 1;
        x |= x >> 2;
        x |= x >> 4;
        x |= x >> 8;
        x |= x >> 16;
        x |= x >> 32;
        return x - (x >> 1);
    }

    /// <summary>Number of set bits (SWAR).</summary>
    public static int PopCount(ulong x)
    {
        x -= (x >> 1) & 0x5555_5555_5555_5555UL;
        x = (x & 0x3333_3333_3333_3333UL) + ((x >> 2) & 0x3333_3333_3333_3333UL);
        x = (x + (x >> 4)) & 0x0F0F_0F0F_0F0F_0F0FUL;
        return (int)((x * 0x0101_0101_0101_0101UL) >> 56);
    }

    /// <summary>log2 of a power of two (64 for 0, which callers never pass on purpose).</summary>
    public static int Log2(ulong powerOfTwo) => PopCount(powerOfTwo - 1);

    /// <summary>Index of the lowest clear bit; 64 when every bit is set.</summary>
    public static int FirstZeroBit(ulong x) => Log2(LowestSetBit(~x));

    public static bool IsPowerOfTwo(ulong x) => x != 0 && (x & (x - 1)) == 0;

    /// <summary>A mask of the low <paramref name="bits"/> bits; all ones from 64 bits on
    /// (C# masks shift counts to six bits, so 1UL &lt;&lt; 64 is not 0).</summary>
    public static ulong LowMask(int bits) => bits >= 64 ? ulong.MaxValue : bits <= 0 ? 0 : (1UL << bits) - 1;
}
