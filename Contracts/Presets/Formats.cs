namespace DmaVerify.Contracts;

/// <summary>The page-table geometries the presets use (facts:
/// docs/linux-facts.md#page-table-formats).</summary>
public static class Formats
{
    private const ulong K4 = 1UL << 12, K16 = 1UL << 14, K64 = 1UL << 16;
    private const ulong M2 = 1UL << 21, M32 = 1UL << 25, M512 = 1UL << 29, G1 = 1UL << 30;

    /// <summary>VT-d second stage, 3/4/5 levels (39/48/57-bit), leaves 4K/2M/1G, address bits 51:12.</summary>
    public static PageTableGeometry VtdSecondStage(int levels = 4) => new()
    {
        Format = PageTableFormatKind.VtdSecondStage,
        PageSizes = K4 | M2 | G1,
        InputBits = 12 + 9 * levels,
        OutputBits = 52,
        LevelBits = Enumerable.Repeat(9, levels).ToArray(),
    };

    /// <summary>AMD IOMMU v1: every power of two from 4 KiB up except 512 GiB (GENMASK(51,12) ^ SZ_512G).</summary>
    public static PageTableGeometry AmdV1(int inputBits = 48) => new()
    {
        Format = PageTableFormatKind.AmdV1,
        PageSizes = (((1UL << 52) - 1) & ~(K4 - 1)) ^ (1UL << 39),
        InputBits = inputBits,
        OutputBits = 52,
        LevelBits = RadixLevels(inputBits, 12, 9),
    };

    /// <summary>ARM LPAE with a 4K, 16K or 64K granule: {4K,2M,1G}, {16K,32M}, {64K,512M}.</summary>
    public static PageTableGeometry ArmLpae(ulong granule = K4, int inputBits = 48, bool stage2 = false)
    {
        int shift = System.Numerics.BitOperations.TrailingZeroCount(granule);
        ulong sizes = granule switch
        {
            K4 => K4 | M2 | G1,
            K16 => K16 | M32,
            K64 => K64 | M512,
            _ => throw new ArgumentException($"LPAE granule must be 4K, 16K or 64K, not {Hex.Format(granule)}"),
        };
        return new PageTableGeometry
        {
            Format = stage2 ? PageTableFormatKind.ArmLpaeS2 : PageTableFormatKind.ArmLpaeS1,
            PageSizes = sizes,
            InputBits = inputBits,
            OutputBits = granule == K64 ? 52 : 48,
            LevelBits = RadixLevels(inputBits, shift, shift - 3),
        };
    }

    /// <summary>K8 GART: one flat table of 32-bit PTEs over the aperture, 40-bit physical addresses.</summary>
    public static PageTableGeometry Gart(AddrRange aperture) => new()
    {
        Format = PageTableFormatKind.Gart,
        PageSizes = K4,
        InputBits = 32,
        OutputBits = 40,
        LevelBits = [Log2((ulong)(aperture.Size >> 12))],
    };

    /// <summary>PowerPC TCE table of 8-byte entries over a window of 2^windowBits with 4 KiB TCEs.</summary>
    public static PageTableGeometry Tce(int windowBits = 31) => new()
    {
        Format = PageTableFormatKind.Tce,
        PageSizes = K4,
        InputBits = windowBits,
        OutputBits = 52,
        LevelBits = [windowBits - 12],
    };

    /// <summary>Bits per level for a radix table: the top level takes what is left over.</summary>
    private static int[] RadixLevels(int inputBits, int pageShift, int bitsPerLevel)
    {
        int vaBits = inputBits - pageShift;
        int levels = (vaBits + bitsPerLevel - 1) / bitsPerLevel;
        var bits = Enumerable.Repeat(bitsPerLevel, levels).ToArray();
        bits[0] = vaBits - bitsPerLevel * (levels - 1);
        return bits;
    }

    private static int Log2(ulong v) => 63 - System.Numerics.BitOperations.LeadingZeroCount(v);
}
