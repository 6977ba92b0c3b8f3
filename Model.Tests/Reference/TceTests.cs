using DmaVerify.Contracts;
using DmaVerify.Model;
using static DmaVerify.Tests.Model.Kit;

namespace DmaVerify.Tests.Model;

/// <summary>
/// power-tce (docs/linux-facts.md#powerpc-bypass-and-ddw, docs/linux-facts.md#powerpc-tce). RAM
/// 0..0x1_FFFF_FFFF (8 GiB) and pmem at 0x40_0000_0000; default TCE window 0..0x7FFF_FFFF (2 GiB,
/// 4 KiB TCEs); the DDW is a direct window at dma_offset 0x0800_0000_0000_0000 of 2^33 bytes, so
/// bus_dma_limit = 0x0800_0000_0000_0000 + 2^33 - 1 = 0x0800_0001_FFFF_FFFF. TCE entry 0 is never
/// used (the table reserves page 0), so the first TCE handed out on an empty table is 0x1000.
/// </summary>
public class TceTests
{
    private const string Preset = "power-tce";
    private const ulong DdwOffset = 0x0800_0000_0000_0000, DdwLast = 0x0800_0001_FFFF_FFFF;
    private const ulong Pmem = 0x40_0000_0000;

    [Fact]
    public void DirectWindowConstants()
    {
        Assert.Equal(DdwOffset, Presets.PowerTceWindows.DdwOffset);
        Assert.Equal(DdwLast + 1, Presets.PowerTceWindows.DirectLimit);
    }

    [Fact]
    public void ThirtyTwoBitMaskGoesThroughTheTceWindow()
    {
        var m = New(Preset);
        // No DDW: even a buffer the 32-bit mask could reach 1:1 is TCE mapped. Lowest free TCEs
        // after the reserved page 0: 0x1000, 0x2000, 0x3000; the in-page offset is kept.
        var low = m.MapOk(0, 0x1000_0123, 0x10);
        var high = m.MapOk(0, 0x1_0000_0456, 0x10);
        var pmem = m.MapOk(0, Pmem + 0x789, 0x10);
        Assert.Equal(0x1123UL, low.Dma.Value);
        Assert.Equal(0x2456UL, high.Dma.Value);
        Assert.Equal(0x3789UL, pmem.Dma.Value);
        Assert.All(new[] { low, high, pmem }, x => Assert.True(x.Dma.Value < 0x8000_0000));
        m.Reaches(0, 0x1123, 0x1000_0123, 0x10);
        m.Reaches(0, 0x2456, 0x1_0000_0456, 0x10);
        m.Reaches(0, 0x3789, Pmem + 0x789, 0x10);
    }

    [Fact]
    public void TceHonoursTheDirection()
    {
        var m = New(Preset);
        // TO_DEVICE → TCE_PCI_READ only: the device may read, not write.
        var toDevice = m.MapOk(0, 0x1000_0000, 0x1000, DmaDirection.ToDevice);
        m.Reaches(0, toDevice.Dma.Value, 0x1000_0000, 0x1000, write: false);
        m.Refused(Access(0, toDevice.Dma.Value, 4, write: true), DmaErrorKind.PermissionFault);
        // FROM_DEVICE → READ|WRITE (the builder always sets READ).
        var fromDevice = m.MapOk(0, 0x1000_2000, 0x1000, DmaDirection.FromDevice);
        m.Reaches(0, fromDevice.Dma.Value, 0x1000_2000, 0x1000, write: true);
        m.Reaches(0, fromDevice.Dma.Value, 0x1000_2000, 0x1000, write: false);
    }

    [Fact]
    public void SixtyFourBitMaskMakesRamBelowEightGiBDirect()
    {
        var m = New(Preset);
        Assert.Equal(Done.Instance, m.Apply(new SetMask(0, ulong.MaxValue, ulong.MaxValue)));
        Assert.True(m.State.Device(0)!.DdwActive);
        Assert.Equal(DdwLast, m.State.Device(0)!.BusDmaLimit);

        // 0x1_2345_6000 + 0x0800_0000_0000_0000 = 0x0800_0001_2345_6000; end 0x0800_0001_2345_7FFF ≤ limit.
        var mapped = m.MapOk(0, 0x1_2345_6000, 0x2000);
        Assert.Equal(0x0800_0001_2345_6000UL, mapped.Dma.Value);
        m.Reaches(0, 0x0800_0001_2345_6000, 0x1_2345_6000, 0x2000);

        // The last RAM page: 0x0800_0001_FFFF_F000 + 0xFFF = 0x0800_0001_FFFF_FFFF = bus_dma_limit exactly.
        Assert.Equal(0x0800_0001_FFFF_F000UL, m.MapOk(0, 0x1_FFFF_F000, 0x1000).Dma.Value);
        // RAM page 0 is direct too (dma = offset).
        Assert.Equal(DdwOffset + 0x10, m.MapOk(0, 0x10, 0x10).Dma.Value);
        Assert.Empty(m.DomainOf(0).Leaves);
    }

    [Fact]
    public void PmemBeyondTheDirectWindowGoesThroughTheTceTable()
    {
        var m = New(Preset);
        m.Ok<Done>(new SetMask(0, ulong.MaxValue, ulong.MaxValue));
        // 0x40_0000_0000 + offset = 0x0800_0040_0000_0000 > 0x0800_0001_FFFF_FFFF → not direct;
        // TCE table, limit min(mask, window end 0x7FFF_FFFF): first free TCE 0x1000.
        var mapped = m.MapOk(0, Pmem, 0x1000);
        Assert.Equal(0x1000UL, mapped.Dma.Value);
        Assert.True(mapped.Dma.Value < 0x8000_0000);
        m.Reaches(0, 0x1000, Pmem, 0x1000);
        Assert.Single(m.DomainOf(0).Leaves);
    }

    [Fact]
    public void SgWithOnePmemEntryGoesWhollyThroughTheTable()
    {
        var m = New(Preset);
        m.Ok<Done>(new SetMask(0, ulong.MaxValue, ulong.MaxValue));
        // arch_dma_map_sg_direct needs every entry below the limit; the pmem entry is not, so both
        // entries are TCE mapped: 0x1000 and 0x2000, one segment each.
        var sg = m.MapSgOk(0, (0x1000_0000, 0x1000), (Pmem, 0x1000));
        Assert.Equal(ValueList.Of(new DmaSegment(new DmaAddr(0x1000), 0x1000), new DmaSegment(new DmaAddr(0x2000), 0x1000)), sg.Segments);
        // With only RAM entries the whole list is direct.
        var direct = m.MapSgOk(0, (0x1000_0000, 0x1000), (0x1_0000_0000, 0x1000));
        Assert.Equal(ValueList.Of(
            new DmaSegment(new DmaAddr(DdwOffset + 0x1000_0000), 0x1000),
            new DmaSegment(new DmaAddr(DdwOffset + 0x1_0000_0000), 0x1000)), direct.Segments);
    }

    [Fact]
    public void MaskThatCannotReachTheDefaultWindowIsRefused()
    {
        var m = New(Preset);
        // 30-bit mask 0x3FFF_FFFF < window end 0x7FFF_FFFF.
        m.RefusedWithoutChange(new SetMask(0, BitMask(30), BitMask(30)), DmaErrorKind.Unsupported);
        Assert.Equal(0xFFFF_FFFFUL, m.State.Device(0)!.DmaMask);
        // 31 bits reaches the window's last byte exactly: accepted, and no DDW.
        Assert.Equal(Done.Instance, m.Apply(new SetMask(0, BitMask(31), BitMask(31))));
        Assert.False(m.State.Device(0)!.DdwActive);
        Assert.Equal(0UL, m.State.Device(0)!.BusDmaLimit);
    }

    [Fact]
    public void OnlyASixtyFourBitMaskCreatesTheDirectWindow()
    {
        var m = New(Preset);
        // 40 bits: dma_mask < DMA_BIT_MASK(64) → no DDW, RAM stays TCE mapped.
        m.Ok<Done>(new SetMask(0, BitMask(40), BitMask(40)));
        Assert.False(m.State.Device(0)!.DdwActive);
        Assert.Equal(0x1000UL, m.MapOk(0, 0x1_0000_0000, 0x1000).Dma.Value);
        // Back from 64 bits to 32 bits: the DDW goes away with the bus limit.
        m.Ok<Done>(new SetMask(1, ulong.MaxValue, ulong.MaxValue));
        m.Ok<Done>(new SetMask(1, BitMask(32), BitMask(32)));
        Assert.False(m.State.Device(1)!.DdwActive);
        Assert.Equal(0UL, m.State.Device(1)!.BusDmaLimit);
        Assert.Equal(0x1000UL, m.MapOk(1, 0x1_0000_0000, 0x1000).Dma.Value);
    }

    [Fact]
    public void AddressOutsideEveryWindowFaults()
    {
        var m = New(Preset);
        // 0x8000_0000 is past the default window, and dev 0 has no DDW.
        m.Faults(0, 0x8000_0000);
        // A TCE that was never set.
        m.Faults(0, 0x1000);
    }
}
