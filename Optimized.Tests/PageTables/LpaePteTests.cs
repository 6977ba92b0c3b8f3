using DmaVerify.Contracts;
using DmaVerify.Model;
using DmaVerify.Optimized.PageTables;

namespace DmaVerify.Tests.PageTables;

/// <summary>ARM LPAE: type 1:0 (1 block, 3 table/page), AF bit 10, SH 9:8, S1 AP 7:6 / S2 HAP 7:6,
/// AttrIndx / MemAttr from bit 2, XN 54:53, address 47:12 (64K: PA 51:48 in bits 15:12).</summary>
public class LpaePteTests
{
    private static ulong Attr(bool s2, Prot p) => LpaePte.LeafAttributes(s2, (p & Prot.Read) != 0, (p & Prot.Write) != 0,
        (p & Prot.Cache) != 0, (p & Prot.Mmio) != 0, (p & Prot.NoExec) != 0, (p & Prot.Priv) != 0);

    [Fact]
    public void FourKGranuleBlockAtLevelTwo()
    {
        // 2 MiB block, stage 1, R|W|CACHE at PA 0x4020_0000: AF 0x400 | SH inner 0x300 |
        // AP unprivileged 0x40 | AttrIndx 1 << 2 = 0x4 | type block 1 = 0x745.
        Assert.Equal(0x4020_0745UL, LpaePte.EncodeLeaf(0x4020_0000, 2, 12, Attr(false, Prot.Read | Prot.Write | Prot.Cache)));
        // Read-only, non-cacheable: AF 0x400 | SH outer 0x200 | RDONLY 0x80 | UNPRIV 0x40 | block 1 = 0x6C1.
        Assert.Equal(0x4020_06C1UL, LpaePte.EncodeLeaf(0x4020_0000, 2, 12, Attr(false, Prot.Read)));
        Assert.Equal(21, LpaePte.BlockShift(2, 12));
        Assert.Equal(2, LpaePte.LeafLevel(21, 12));
    }

    [Fact]
    public void StageTwoEncodings()
    {
        // 4 KiB page (level 3), R|W|CACHE at PA 0x8_8000_1000: AF 0x400 | SH inner 0x300 |
        // HAP R|W 0xC0 | MemAttr 0xF << 2 = 0x3C | type page 3 = 0x7FF.
        Assert.Equal(0x8_8000_17FFUL, LpaePte.EncodeLeaf(0x8_8000_1000, 3, 12, Attr(true, Prot.Read | Prot.Write | Prot.Cache)));
        // 2 MiB device block, read-only, no-exec: XN 3 << 53 | AF 0x400 | SH outer 0x200 |
        // HAP R 0x40 | MemAttr 0x1 << 2 = 0x4 | block 1 = 0x645.
        Assert.Equal(0x0060_0000_4000_0645UL, LpaePte.EncodeLeaf(0x4000_0000, 2, 12, Attr(true, Prot.Read | Prot.Mmio | Prot.NoExec)));
    }

    [Fact]
    public void SixtyFourKGranuleFiftyTwoBitAddress()
    {
        // PA 0xA_BCDE_F123_0000: bits 47:16 stay (0xBCDE_F123_0000), bits 51:48 = 0xA go to
        // PTE bits 15:12 (0xA000); stage-1 R|W page: AF 0x400 | SH outer 0x200 | UNPRIV 0x40 | 3.
        ulong pte = LpaePte.EncodeLeaf(0x000A_BCDE_F123_0000, 3, 16, Attr(false, Prot.Read | Prot.Write));
        Assert.Equal(0x0000_BCDE_F123_A643UL, pte);
        Assert.Equal(0x000A_BCDE_F123_0000UL, LpaePte.DecodeAddress(pte, 16));
        // Table descriptor for a table at 0xF_0000_0001_0000: 0x1_0000 | 0xF000 | type 3.
        Assert.Equal(0x0000_0000_0001_F003UL, LpaePte.EncodeTable(0x000F_0000_0001_0000, 16));
        // A 4 TiB block (level 1 with 64K: shift 16 + 2 x 13 = 42) at the top of the 52-bit space.
        ulong block = LpaePte.EncodeLeaf(0x000F_FC00_0000_0000, 1, 16, Attr(false, Prot.Read));
        Assert.Equal(0x0000_FC00_0000_F000UL, block & 0x0000_FFFF_FFFF_F000);
        Assert.Equal(0x000F_FC00_0000_0000UL, LpaePte.DecodeAddress(block, 16));
        Assert.Equal(42, LpaePte.BlockShift(1, 16));
    }

    [Theory]
    // granule shift, IAS, stage 2, levels, top index bits
    [InlineData(12, 48, false, 4, 9)]
    [InlineData(12, 32, false, 3, 2)]
    [InlineData(12, 40, false, 4, 1)]
    [InlineData(12, 40, true, 3, 10)]   // two level-1 tables concatenated
    [InlineData(12, 48, true, 4, 9)]    // 512 entries at level 0: no concatenation
    [InlineData(12, 43, true, 3, 13)]   // 16 entries at level 0: the most that concatenate
    [InlineData(12, 44, true, 4, 5)]    // 32 entries at level 0: no concatenation
    [InlineData(14, 48, false, 4, 1)]
    [InlineData(14, 48, true, 3, 12)]
    [InlineData(16, 48, false, 3, 6)]
    [InlineData(16, 52, false, 3, 10)]
    [InlineData(16, 32, true, 2, 3)]
    public void GeometryFromIas(int granuleShift, int ias, bool stage2, int levels, int topBits)
    {
        Assert.Equal(levels, LpaePte.Levels(ias, granuleShift, stage2));
        Assert.Equal(topBits, LpaePte.TopIndexBits(ias, granuleShift, stage2));
        var format = new ArmLpae(1UL << granuleShift, ias, 0, stage2);
        // The levels decode IOVA bits [granule shift, IAS) exactly once.
        int bits = 0;
        for (int l = 0; l < levels; l++)
        {
            Assert.Equal(granuleShift + bits, format.LevelShift(l));
            bits += format.TableIndexBits(l, levels);
        }
        Assert.Equal(ias, granuleShift + bits);
    }

    [Fact]
    public void DescriptorTypes()
    {
        Assert.Equal(0, LpaePte.Kind(0, 2));
        Assert.Equal(0, LpaePte.Kind(0x4000_0002, 2)); // type 2: invalid
        Assert.Equal(0, LpaePte.Kind(0x4000_0001, 3)); // type 1 at level 3: reserved, invalid
        Assert.Equal(2, LpaePte.Kind(0x4000_0003, 3)); // page
        Assert.Equal(2, LpaePte.Kind(0x4000_0001, 2)); // block
        Assert.Equal(1, LpaePte.Kind(0x4000_0003, 2)); // table
        Assert.Equal(-1, LpaePte.LeafLevel(39, 12));   // no level-0 blocks
        Assert.Equal(2, LpaePte.LeafLevel(25, 14));    // 32 MiB with 16K
    }

    /// <summary>The granule is a level-3 page, level 1 holds the largest blocks, and nothing
    /// below the granule or between the levels has a level.</summary>
    [Theory]
    [InlineData(12)]
    [InlineData(14)]
    [InlineData(16)]
    public void LeafLevelsAtTheEdges(int granuleShift)
    {
        int bitsPerLevel = granuleShift - 3;
        Assert.Equal(3, LpaePte.LeafLevel(granuleShift, granuleShift));
        Assert.Equal(1, LpaePte.LeafLevel(granuleShift + 2 * bitsPerLevel, granuleShift));
        Assert.Equal(-1, LpaePte.LeafLevel(granuleShift + 1, granuleShift));
        for (int below = 0; below < granuleShift; below++)
            Assert.Equal(-1, LpaePte.LeafLevel(below, granuleShift));
    }

    /// <summary>Stage 1's AttrIndx is bits 4:2 only: bit 5 is NS, not part of the memory type.</summary>
    [Fact]
    public void StageOneMemoryTypeIgnoresTheNsBit()
    {
        ulong pte = (1UL << 5) | (LpaePte.MairDevice << LpaePte.AttrShift);
        Assert.Equal(LpaePte.MairDevice, LpaePte.MemoryType(pte, stage2: false));
        Assert.True(LpaePte.IsDevice(pte, stage2: false));
    }

    /// <summary>The canonical-leaf check (what INV-14 reads) rejects each way an entry can
    /// differ from what EncodeLeaf writes.</summary>
    [Fact]
    public void NonCanonicalLeavesAreRejected()
    {
        ulong s1 = LpaePte.EncodeLeaf(0x4020_0000, 2, 12, Attr(false, Prot.Read | Prot.Write | Prot.Cache));
        ulong s1Plain = LpaePte.EncodeLeaf(0x4020_0000, 2, 12, Attr(false, Prot.Read | Prot.Write));
        ulong s2 = LpaePte.EncodeLeaf(0x4020_0000, 2, 12, Attr(true, Prot.Read | Prot.Write | Prot.Cache));
        Assert.True(LpaePte.IsCanonicalLeaf(s1, 2, 12, false));
        Assert.True(LpaePte.IsCanonicalLeaf(s1Plain, 2, 12, false));
        Assert.True(LpaePte.IsCanonicalLeaf(s2, 2, 12, true));
        ulong attrs = Attr(false, Prot.Read | Prot.Write | Prot.Cache);
        Assert.False(LpaePte.IsCanonicalLeaf(LpaePte.EncodeLeaf(0, 0, 12, attrs), 0, 12, false)); // no level-0 blocks
        Assert.False(LpaePte.IsCanonicalLeaf(LpaePte.EncodeLeaf(0, 4, 12, attrs), 4, 12, false)); // no level 4
        Assert.False(LpaePte.IsCanonicalLeaf(s1 | LpaePte.TypeTable, 2, 12, false));             // a table descriptor
        Assert.False(LpaePte.IsCanonicalLeaf(s1 & ~LpaePte.AccessFlag, 2, 12, false));
        Assert.False(LpaePte.IsCanonicalLeaf(s1 | (1UL << 58), 2, 12, false));                   // software bit
        Assert.False(LpaePte.IsCanonicalLeaf(s1 | (1UL << 53), 2, 12, false));                   // half of XN
        Assert.False(LpaePte.IsCanonicalLeaf((s1 & ~LpaePte.ShMask) | LpaePte.ShOuter, 2, 12, false)); // cacheable, outer
        Assert.False(LpaePte.IsCanonicalLeaf(s1Plain | (3UL << LpaePte.AttrShift), 2, 12, false));   // AttrIndx 3: unused
        Assert.False(LpaePte.IsCanonicalLeaf(s2 & ~(LpaePte.HapRead | LpaePte.HapWrite), 2, 12, true)); // no access
    }

    [Theory]
    [InlineData(12, false)]
    [InlineData(12, true)]
    [InlineData(14, false)]
    [InlineData(14, true)]
    [InlineData(16, false)]
    [InlineData(16, true)]
    public void EveryLeafLevelRoundTripsAtTheExtremes(int granuleShift, bool stage2)
    {
        int oasBits = granuleShift == 16 ? 52 : 48;
        for (int lpaeLevel = 1; lpaeLevel <= 3; lpaeLevel++)
        {
            int shift = LpaePte.BlockShift(lpaeLevel, granuleShift);
            if (shift >= oasBits) continue;
            ulong maxPa = Bits.LowMask(oasBits) & ~Bits.LowMask(shift);
            foreach (ulong pa in new[] { 0UL, maxPa })
            {
                ulong pte = LpaePte.EncodeLeaf(pa, lpaeLevel, granuleShift, Attr(stage2, Prot.Read | Prot.Write | Prot.Cache));
                Assert.Equal(2, LpaePte.Kind(pte, lpaeLevel));
                Assert.Equal(pa, LpaePte.DecodeAddress(pte, granuleShift));
                Assert.True(LpaePte.IsCanonicalLeaf(pte, lpaeLevel, granuleShift, stage2), $"{pte:X}");
                Assert.True(LpaePte.CanRead(pte, stage2) && LpaePte.CanWrite(pte, stage2));
            }
        }
    }

    /// <summary>generic_pt's test_attr_from_entry: re-encoding the attributes read back from an
    /// entry gives the identical entry, for every prot the format accepts.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AttributesReadBackReEncodeIdentically(bool stage2)
    {
        var format = new ArmLpae(1UL << 12, 48, 0, stage2);
        for (int bits = 0; bits < 64; bits++)
        {
            var prot = (Prot)bits;
            if ((prot & (Prot.Read | Prot.Write)) == 0) continue;
            ulong pte = format.EncodeLeaf(0x20_0000, 1UL << 21, 1, prot);
            Prot back = format.LeafProt(pte, 1);
            Assert.Equal(pte, format.EncodeLeaf(0x20_0000, 1UL << 21, 1, back));
            Assert.True(format.IsCanonicalLeaf(pte, 1));
            // Stage 1 cannot express write-only: it reads back as R|W.
            Assert.Equal(!stage2 || (prot & Prot.Read) != 0, (back & Prot.Read) != 0);
            Assert.Equal((prot & Prot.Write) != 0, (back & Prot.Write) != 0);
        }
    }
}
