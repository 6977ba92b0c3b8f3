using DmaVerify.Optimized.PageTables;

namespace DmaVerify.Tests.PageTables;

/// <summary>VT-d second stage: R bit 0, W bit 1, PS bit 7, address 51:12, no present bit.</summary>
public class VtdSsPteTests
{
    [Fact]
    public void KnownPatterns()
    {
        // 2 MiB superpage at PA 0x1_2340_0000, R|W: address | PS 0x80 | W 0x2 | R 0x1.
        Assert.Equal(0x1_2340_0083UL, VtdSsPte.EncodeLeaf(0x1_2340_0000, 1, true, true));
        // 4 KiB page, read-only: address | R; no PS at level 0.
        Assert.Equal(0xABCD_E001UL, VtdSsPte.EncodeLeaf(0xABCD_E000, 0, true, false));
        // 1 GiB superpage at 256 GiB, write-only: address | PS | W.
        Assert.Equal(0x40_0000_0082UL, VtdSsPte.EncodeLeaf(0x40_0000_0000, 2, false, true));
        // Table entries carry R|W.
        Assert.Equal(0x1000_0000_0003UL, VtdSsPte.EncodeTable(0x1000_0000_0000));
        // PA bits above 51 never reach the entry.
        Assert.Equal(0x000F_FFFF_FFFF_F003UL, VtdSsPte.EncodeLeaf(ulong.MaxValue, 0, true, true));
    }

    [Fact]
    public void LevelIndexSplitsTheIovaNineBitsAtATime()
    {
        // 0x12_3456_7000 >> 12 = 0x1234567: low 9 bits 0x167; >> 9 = 0x91A2: low 9 bits 0x1A2;
        // >> 9 = 0x48; >> 9 = 0.
        Assert.Equal(0x167, VtdSsPte.LevelIndex(0x12_3456_7000, 0));
        Assert.Equal(0x1A2, VtdSsPte.LevelIndex(0x12_3456_7000, 1));
        Assert.Equal(0x48, VtdSsPte.LevelIndex(0x12_3456_7000, 2));
        Assert.Equal(0, VtdSsPte.LevelIndex(0x12_3456_7000, 3));
        // The top index of a 5-level table is IOVA bits 56:48.
        Assert.Equal(0x1FF, VtdSsPte.LevelIndex(0x01FF_0000_0000_0000, 4));
        Assert.Equal(new[] { 39, 48, 57 }, new[] { 3, 4, 5 }.Select(VtdSsPte.InputBits));
    }

    [Fact]
    public void PresenceIsNonZeroAndPsMarksSuperpages()
    {
        Assert.False(VtdSsPte.IsPresent(0));
        Assert.True(VtdSsPte.IsPresent(VtdSsPte.EncodeLeaf(0, 0, true, false))); // PA 0, R: entry 0x1
        Assert.True(VtdSsPte.IsLeaf(0x1, 0));
        Assert.False(VtdSsPte.IsLeaf(VtdSsPte.EncodeTable(0x5000), 1));
        Assert.True(VtdSsPte.IsLeaf(VtdSsPte.EncodeLeaf(0x20_0000, 1, true, false), 1));
        Assert.Equal(-1, VtdSsPte.LeafLevel(39)); // no 512 GiB pages
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void RoundTripsAtTheExtremes(int level)
    {
        ulong size = 1UL << VtdSsPte.LevelShift(level);
        ulong maxPa = VtdSsPte.AddressMask & ~(size - 1);
        foreach (ulong pa in new[] { 0UL, maxPa })
            foreach (var (r, w) in new[] { (true, false), (false, true), (true, true) })
            {
                ulong pte = VtdSsPte.EncodeLeaf(pa, level, r, w);
                Assert.True(VtdSsPte.IsPresent(pte));
                Assert.True(VtdSsPte.IsLeaf(pte, level));
                Assert.Equal(pa, VtdSsPte.DecodeAddress(pte));
                Assert.Equal(r, VtdSsPte.CanRead(pte));
                Assert.Equal(w, VtdSsPte.CanWrite(pte));
                Assert.True(VtdSsPte.IsCanonicalLeaf(pte, level));
            }
        Assert.False(VtdSsPte.IsCanonicalLeaf(VtdSsPte.EncodeLeaf(0x1000, 1, true, true), 1)); // misaligned superpage
        Assert.False(VtdSsPte.IsCanonicalLeaf(VtdSsPte.EncodeLeaf(0, level, true, true) | (1UL << 11), level)); // SNP not used
    }

    /// <summary>The canonical-leaf check rejects each way an entry can differ from what
    /// EncodeLeaf writes: no leaf level, PS where it must not be or missing where it must be,
    /// no permission.</summary>
    [Fact]
    public void NonCanonicalLeavesAreRejected()
    {
        Assert.False(VtdSsPte.IsCanonicalLeaf(VtdSsPte.EncodeLeaf(0, 3, true, true), 3)); // no 512 GiB leaves
        Assert.False(VtdSsPte.IsCanonicalLeaf(VtdSsPte.EncodeLeaf(0, 0, true, true), -1));
        Assert.False(VtdSsPte.IsCanonicalLeaf(VtdSsPte.EncodeLeaf(0x1000, 0, true, true) | VtdSsPte.PageSize, 0));
        Assert.False(VtdSsPte.IsCanonicalLeaf(VtdSsPte.EncodeLeaf(0x20_0000, 1, true, true) & ~VtdSsPte.PageSize, 1));
        Assert.False(VtdSsPte.IsCanonicalLeaf(VtdSsPte.EncodeLeaf(0x20_0000, 1, false, false), 1)); // PS only
    }
}
