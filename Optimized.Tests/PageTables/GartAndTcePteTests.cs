using DmaVerify.Optimized.PageTables;

namespace DmaVerify.Tests.PageTables;

public class GartAndTcePteTests
{
    [Fact]
    public void GartPteForAPaAboveFourGiB()
    {
        // PA 0x12_3456_7000: bits 31:12 stay (0x3456_7000); bits 39:32 = 0x12 go to 11:4 (0x120);
        // VALID|COHERENT = 3.
        Assert.Equal(0x3456_7123u, GartPte.Encode(0x12_3456_7000));
        Assert.Equal(0x12_3456_7000UL, GartPte.Decode(0x3456_7123));
    }

    [Fact]
    public void GartRoundTripsAtTheExtremes()
    {
        Assert.Equal(3u, GartPte.Encode(0));
        Assert.Equal(0UL, GartPte.Decode(3));
        // Highest 4 KiB page below 2^40: 0xFFFF_F000 | 0xFF << 4 | 3.
        Assert.Equal(0xFFFF_FFF3u, GartPte.Encode(0xFF_FFFF_F000));
        Assert.Equal(0xFF_FFFF_F000UL, GartPte.Decode(0xFFFF_FFF3));
        var rng = new Random(3);
        for (int i = 0; i < 10_000; i++)
        {
            ulong pa = (ulong)rng.NextInt64(0, 1L << 40) & ~0xFFFUL;
            uint pte = GartPte.Encode(pa);
            Assert.Equal(pa, GartPte.Decode(pte));
            Assert.True(GartPte.IsValid(pte) && GartPte.IsCanonical(pte));
        }
        Assert.Equal(16383, GartPte.LevelIndex(0x43FF_F000, 0x4000_0000));
    }

    [Fact]
    public void TceKnownPatterns()
    {
        // 4 KiB TCE: RPN = pa >> 12 back at bit 12; READ|WRITE = 3.
        Assert.Equal(0x1234_5678_9003UL, TcePte.Encode(0x1234_5678_9000, 12, true, true));
        // 64 KiB TCE at PA 0x9_8765_4321_0000: RPN 0x9_8765_4321 (36 bits) << 16 | 3.
        Assert.Equal(0x0009_8765_4321_0003UL, TcePte.Encode(0x0009_8765_4321_0000, 16, true, true));
        // 2 MiB TCE, read only; PA bit 52 lies outside the 52-bit RPN rule and is dropped.
        Assert.Equal(0x20_0001UL, TcePte.Encode((1UL << 52) | 0x20_0000, 21, true, false));
        // RPN masks: 52 - page shift bits.
        Assert.Equal((1UL << 40) - 1, TcePte.RpnMask(12));
        Assert.Equal((1UL << 28) - 1, TcePte.RpnMask(24));
        // No permission: not a valid TCE, so not a canonical one either.
        Assert.False(TcePte.IsValid(TcePte.Encode(0x5000, 12, false, false)));
        Assert.False(TcePte.IsCanonical(TcePte.Encode(0x5000, 12, false, false), 12));
        Assert.False(TcePte.IsCanonical(0, 12));
        // Slots count from the window's base (the DDW does not start at bus address 0).
        Assert.Equal(5, TcePte.LevelIndex(0x8_0000_5000, 0x8_0000_0000, 12));
        Assert.Equal(3, TcePte.LevelIndex(0x8_0060_0000, 0x8_0000_0000, 21));
    }

    [Theory]
    [InlineData(12)]
    [InlineData(16)]
    [InlineData(21)]
    [InlineData(24)]
    public void TceRoundTripsAtTheExtremes(int shift)
    {
        ulong maxPa = TcePte.MaxPa & ~Bits.LowMask(shift);
        foreach (ulong pa in new[] { 0UL, maxPa })
            foreach (var (r, w) in new[] { (true, false), (false, true), (true, true) })
            {
                ulong pte = TcePte.Encode(pa, shift, r, w);
                Assert.True(TcePte.IsValid(pte));
                Assert.Equal(pa, TcePte.DecodeAddress(pte, shift));
                Assert.Equal(r, TcePte.CanRead(pte));
                Assert.Equal(w, TcePte.CanWrite(pte));
                Assert.True(TcePte.IsCanonical(pte, shift));
            }
        Assert.Equal(maxPa | 3, TcePte.Encode(maxPa, shift, true, true));
    }
}
