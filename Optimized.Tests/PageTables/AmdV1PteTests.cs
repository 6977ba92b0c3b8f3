using DmaVerify.Optimized.PageTables;

namespace DmaVerify.Tests.PageTables;

/// <summary>AMD v1: PR bit 0, Next Level 11:9, OA 51:12, IR bit 61, IW bit 62; NL 7 encodes the size.</summary>
public class AmdV1PteTests
{
    private const ulong IrIw = 0x6000_0000_0000_0000;

    [Fact]
    public void NextLevel7LeafOf32KiB()
    {
        // 32 KiB = 2^15 at PA 0x1234_0000, R|W. OA = (pa | 0x7FFF) & ~(0x8000 >> 1) & OaMask
        //   = 0x1234_7FFF & ~0x4000 & ...F000 = 0x1234_3000 (bits 13:12 ones, bit 14 zero);
        // NL 7 at 11:9 = 0xE00; PR = 1; IR|IW = 0x6000_0000_0000_0000.
        ulong pte = AmdV1Pte.EncodeLeaf(0x1234_0000, 15, true, true);
        Assert.Equal(0x6000_0000_1234_3E01UL, pte);
        Assert.Equal(7, AmdV1Pte.NextLevel(pte));
        Assert.Equal(15, AmdV1Pte.DecodeLeafSizeLog2(pte, 0)); // first zero of pte|0xFFF is bit 14
        Assert.Equal(0x1234_0000UL, AmdV1Pte.DecodeLeafAddress(pte, 0));
        Assert.Equal(0, AmdV1Pte.LeafLevel(15));
        Assert.Equal(3, AmdV1Pte.SlotCountLog2(15)); // replicated over 8 level-0 slots
    }

    [Fact]
    public void OtherKnownPatterns()
    {
        // 4 KiB natural leaf, read-only: PA | IR (bit 61) | PR.
        Assert.Equal(0x2000_0000_FEDC_B001UL, AmdV1Pte.EncodeLeaf(0xFEDC_B000, 12, true, false));
        // 2 MiB natural leaf at level 1: NL 0.
        Assert.Equal(0x6000_0000_4000_0001UL, AmdV1Pte.EncodeLeaf(0x4000_0000, 21, true, true));
        // 8 KiB: OA bits [11:12] (none) ones, bit 12 zero: (0x2000|0x1FFF) & ~0x1000 = 0x2FFF → 0x2000; IW only.
        Assert.Equal(0x4000_0000_0000_2E01UL, AmdV1Pte.EncodeLeaf(0x2000, 13, false, true));
        // 4 MiB at level 1 (2 slots): (0x80_0000 | 0x3F_FFFF) & ~0x20_0000 = 0x9F_FFFF → OA 0x9F_F000.
        ulong fourMeg = AmdV1Pte.EncodeLeaf(0x80_0000, 22, true, true);
        Assert.Equal(0x6000_0000_009F_FE01UL, fourMeg);
        Assert.Equal(22, AmdV1Pte.DecodeLeafSizeLog2(fourMeg, 1));
        Assert.Equal(0x80_0000UL, AmdV1Pte.DecodeLeafAddress(fourMeg, 1));
        // Table entries: NL = the child's 1-based level = the entry's 0-based level, with IR|IW.
        Assert.Equal(0x6000_1000_0000_0201UL, AmdV1Pte.EncodeTable(0x1000_0000_0000, 1));
        Assert.Equal(0x6000_1000_0000_0601UL, AmdV1Pte.EncodeTable(0x1000_0000_0000, 3));
        Assert.False(AmdV1Pte.IsLeaf(AmdV1Pte.EncodeTable(0x1000, 2)));
    }

    [Fact]
    public void EveryPowerOfTwoButFiveTwelveGiB()
    {
        var format = new AmdV1();
        for (int n = 12; n <= 51; n++)
        {
            bool supported = n != 39;
            Assert.Equal(supported, (format.PageSizes & (1UL << n)) != 0);
            Assert.Equal(supported ? (n - 12) / 9 : -1, AmdV1Pte.LeafLevel(n));
        }
        Assert.Equal(0UL, format.PageSizes & 0xFFF);
        Assert.Equal(0UL, format.PageSizes >> 52);
        Assert.Equal(1, AmdV1Pte.SlotCountLog2(40)); // 1 TiB = two 512 GiB slots at level 3
    }

    [Fact]
    public void EverySizeRoundTripsAtPaZeroAndTheMaximumPa()
    {
        for (int n = 12; n <= 51; n++)
        {
            if (n == 39) continue;
            int level = AmdV1Pte.LeafLevel(n);
            ulong maxPa = AmdV1Pte.OaMask & ~Bits.LowMask(n);
            foreach (ulong pa in new[] { 0UL, maxPa })
            {
                ulong pte = AmdV1Pte.EncodeLeaf(pa, n, true, true);
                Assert.True(AmdV1Pte.IsPresent(pte));
                Assert.True(AmdV1Pte.IsLeaf(pte));
                Assert.Equal(n, AmdV1Pte.DecodeLeafSizeLog2(pte, level));
                Assert.Equal(pa, AmdV1Pte.DecodeLeafAddress(pte, level));
                Assert.Equal((n - 12) % 9 == 0 ? 0 : 7, AmdV1Pte.NextLevel(pte));
                Assert.True(AmdV1Pte.IsCanonicalLeaf(pte, level), $"size 2^{n} pa {pa:X}");
                // A sized (NL 7) leaf belongs to exactly one level; a natural one reads as the
                // next level's natural size there, so only the former is checked.
                if ((n - 12) % 9 != 0) Assert.False(AmdV1Pte.IsCanonicalLeaf(pte, level + 1));
            }
        }
    }

    /// <summary>Sizes below 4 KiB or above 2^51 have no level (C#'s truncating division alone
    /// would put 2^11 at level 0), and only PR makes an entry present.</summary>
    [Fact]
    public void LeafLevelOutsideTheSupportedSizesAndThePresentBit()
    {
        foreach (int n in new[] { 0, 3, 11, 52, 63 })
            Assert.Equal(-1, AmdV1Pte.LeafLevel(n));
        Assert.False(AmdV1Pte.IsPresent(0));
        Assert.False(AmdV1Pte.IsPresent(AmdV1Pte.EncodeLeaf(0x4000_0000, 21, true, true) & ~AmdV1Pte.Present));
    }

    /// <summary>The canonical-leaf check (what INV-14 reads) rejects each way an entry can
    /// differ from what EncodeLeaf writes.</summary>
    [Fact]
    public void NonCanonicalLeavesAreRejected()
    {
        ulong leaf = AmdV1Pte.EncodeLeaf(0x4000_0000, 21, true, true); // 2 MiB, natural size at level 1
        Assert.True(AmdV1Pte.IsCanonicalLeaf(leaf, 1));
        Assert.False(AmdV1Pte.IsCanonicalLeaf(leaf & ~AmdV1Pte.Present, 1));
        Assert.False(AmdV1Pte.IsCanonicalLeaf(leaf | (1UL << 59), 1)); // outside PR/NL/OA/IR/IW
        Assert.False(AmdV1Pte.IsCanonicalLeaf(leaf & ~(AmdV1Pte.IoRead | AmdV1Pte.IoWrite), 1));
        Assert.False(AmdV1Pte.IsCanonicalLeaf(leaf | 0x1000, 1)); // natural size, address not aligned
        // The same 2 MiB written as Next Level 7 (OA bits 19:12 ones, bit 20 zero): a natural
        // size must use Next Level 0.
        ulong sized = 0x4000_0000UL | 0xF_F000 | ((ulong)AmdV1Pte.NextLevelSized << AmdV1Pte.NextLevelShift)
            | AmdV1Pte.IoRead | AmdV1Pte.IoWrite | AmdV1Pte.Present;
        Assert.Equal(21, AmdV1Pte.DecodeLeafSizeLog2(sized, 1));
        Assert.False(AmdV1Pte.IsCanonicalLeaf(sized, 1));
    }

    [Fact]
    public void IrIwConstantMatchesTheFieldDefinitions() => Assert.Equal(IrIw, AmdV1Pte.IoRead | AmdV1Pte.IoWrite);
}
