using DmaVerify.Contracts;
using DmaVerify.Model;
using static DmaVerify.Tests.Model.Kit;

namespace DmaVerify.Tests.Model;

/// <summary>
/// direct (docs/linux-facts.md#dma-direct-and-swiotlb): no IOMMU; dma = phys when dma_capable, else
/// bounce through swiotlb (pool 0x7C00_0000..0x7FFF_FFFF, 2 KiB slots, the lowest free span by
/// default) and re-check the bounce address, else fail. Devices: 0 = 64-bit, 1 = 32-bit,
/// 2 = 24-bit, 3 = 64-bit mask with bus_dma_limit 0x3FFF_FFFF.
/// </summary>
public class DirectSwiotlbTests
{
    private const string Preset = "direct";
    private const ulong Pool = 0x7C00_0000;

    [Fact]
    public void CapableBufferIsMappedOneToOne()
    {
        var m = New(Preset);
        // dev 0 (64-bit) reaches all RAM, including 0x4_0000_0000.
        Assert.Equal(new Mapped(new DmaAddr(0x4_0000_0123)), m.Apply(new Map(0, new PhysAddr(0x4_0000_0123), 0x100, Bidi)));
        // dev 1 (32-bit): 0x7000_0000 + 0x1000 - 1 ≤ 0xFFFF_FFFF.
        Assert.Equal(new Mapped(new DmaAddr(0x7000_0000)), m.Apply(new Map(1, new PhysAddr(0x7000_0000), K4, Bidi)));
        Assert.Empty(m.State.Bounces);
        Assert.All(m.State.Devices, d => Assert.Null(d.Domain));
        m.Reaches(0, 0x4_0000_0123, 0x4_0000_0123, 0x100);
    }

    [Fact]
    public void ThirtyTwoBitDeviceBouncesAHighBuffer()
    {
        var m = New(Preset);
        // dev 1: 0x1_0000_0000 + 0xFFF > 0xFFFF_FFFF → bounce. 0x1000 bytes = 2 slots at the pool's
        // start 0x7C00_0000, whose end 0x7C00_0FFF ≤ mask.
        var mapped = m.MapOk(1, 0x1_0000_0000, K4);
        Assert.Equal(new Mapped(new DmaAddr(Pool), new PhysAddr(Pool)), mapped);
        var slot = Assert.Single(m.State.Bounces);
        Assert.Equal(new AddrRange(Pool, Pool + 0xFFF), slot.Slot);
        Assert.Equal(0x1_0000_0000UL, slot.OrigPhys);
        m.Reaches(1, Pool, Pool, K4);

        // A second bounce while the first is live takes the next free span; 0x100 bytes round up to
        // one 2 KiB slot.
        Assert.Equal(new Mapped(new DmaAddr(Pool + 0x1000), new PhysAddr(Pool + 0x1000)), m.Apply(new Map(1, new PhysAddr(0x2_0000_0000), 0x100, Bidi)));
        Assert.Equal(new AddrRange(Pool + 0x1000, Pool + 0x17FF), m.State.Bounces[1].Slot);

        // Unmap releases the slot.
        m.Ok<Done>(new Unmap(1, new LiveRef(0), K4, Bidi));
        Assert.Single(m.State.Bounces);
        Assert.Equal(new Mapped(new DmaAddr(Pool), new PhysAddr(Pool)), m.Apply(new Map(1, new PhysAddr(0x3_0000_0000), 0x800, Bidi)));
    }

    [Fact]
    public void TwentyFourBitDeviceWhoseBounceAddressIsAboveItsMaskFails()
    {
        var m = New(Preset);
        // dev 2: 0x100_0000 + 0xFFF > 0xFF_FFFF → bounce; the pool starts at 0x7C00_0000 > 0xFF_FFFF,
        // so the bounce address fails the re-check → NotCapable, and no slot is kept.
        m.RefusedWithoutChange(new Map(2, new PhysAddr(0x100_0000), K4, Bidi), DmaErrorKind.NotCapable);
        Assert.Empty(m.State.Bounces);
        Assert.Empty(m.State.Mappings);
        // Ending exactly at the mask is fine: 0xFF_F000 + 0xFFF = 0xFF_FFFF.
        Assert.Equal(0xFF_F000UL, m.MapOk(2, 0xFF_F000, K4).Dma.Value);
    }

    [Fact]
    public void BusLimitIsHonoured()
    {
        var m = New(Preset);
        // dev 3: mask 2^64-1 but bus_dma_limit 0x3FFF_FFFF; min_not_zero = 0x3FFF_FFFF.
        // 0x3FFF_F000 + 0xFFF = 0x3FFF_FFFF ≤ limit → direct.
        Assert.Equal(0x3FFF_F000UL, m.MapOk(3, 0x3FFF_F000, K4).Dma.Value);
        // 0x3FFF_F800 + 0xFFF = 0x4000_07FF > limit → bounce; pool 0x7C00_0000 > limit → NotCapable.
        m.RefusedWithoutChange(new Map(3, new PhysAddr(0x3FFF_F800), K4, Bidi), DmaErrorKind.NotCapable);
        // Above 4 GiB (the mask alone would allow it) → NotCapable as well.
        m.RefusedWithoutChange(new Map(3, new PhysAddr(0x1_0000_0000), K4, Bidi), DmaErrorKind.NotCapable);
        m.Reaches(3, 0x3FFF_F000, 0x3FFF_F000, K4);
    }

    [Fact]
    public void ResourceAndCoherentAreNeverBounced()
    {
        var m = New(Preset);
        // dma_map_resource of MMIO above the 32-bit mask: dma = phys, not capable → error.
        m.RefusedWithoutChange(new MapResource(1, new PhysAddr(0x38_0000_0000), K4, Bidi), DmaErrorKind.NotCapable);
        Assert.Equal(0x38_0000_0000UL, m.Ok<Mapped>(new MapResource(0, new PhysAddr(0x38_0000_0000), K4, Bidi)).Dma.Value);
        // dma_alloc_coherent uses the coherent mask (32 bits for dev 1): a buffer above it fails.
        m.RefusedWithoutChange(new AllocCoherent(1, new PhysAddr(0x1_0000_0000), K4), DmaErrorKind.NotCapable);
        Assert.Equal(0x1000_0000UL, m.Ok<Mapped>(new AllocCoherent(1, new PhysAddr(0x1000_0000), K4)).Dma.Value);
        Assert.Empty(m.State.Bounces);
    }

    [Fact]
    public void BufferTooLargeForSwiotlbIsRefused()
    {
        var m = New(Preset);
        // 256 KiB + 1 page > IO_TLB_SIZE × IO_TLB_SEGSIZE = 2 KiB × 128 = 0x4_0000.
        m.RefusedWithoutChange(new Map(1, new PhysAddr(0x1_0000_0000), 0x4_1000, Bidi), DmaErrorKind.NoBounceBuffer);
        // Exactly 256 KiB fits.
        Assert.Equal(new Mapped(new DmaAddr(Pool), new PhysAddr(Pool)), m.Apply(new Map(1, new PhysAddr(0x1_0000_0000), 0x4_0000, Bidi)));
    }
}
