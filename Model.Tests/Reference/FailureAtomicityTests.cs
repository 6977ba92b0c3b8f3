using DmaVerify.Contracts;
using DmaVerify.Model;
using static DmaVerify.Tests.Model.Kit;

namespace DmaVerify.Tests.Model;

/// <summary>
/// INV-15 for the model itself: an op that fails part-way — after it has already allocated IOVA
/// space, installed leaves or taken a bounce slot for earlier pieces — leaves nothing behind.
/// </summary>
public class FailureAtomicityTests
{
    [Fact]
    public void UntrustedSgWhoseLaterEntryCannotBeBouncedLeavesNothing()
    {
        // x86-vtd's untrusted device with a 1 MiB max segment (an NVMe-like device), so an entry
        // larger than swiotlb's 256 KiB limit reaches the map path.
        var dev = Presets.Get("x86-vtd").Device(2)! with { MaxSegmentSize = 0x10_0000 };
        var m = New(WithDevices("x86-vtd", dev));
        // Entry 0 (0x100 offset, 0x200 bytes) is bounced into [0x7C00_0000, 0x7C00_0FFF] and mapped at
        // 0xFFFF_F000; entry 1 (offset 0x100, 0x4_0000 bytes → 0x4_1000 in whole granules) exceeds
        // IO_TLB_SIZE × IO_TLB_SEGSIZE = 0x4_0000 and cannot be bounced.
        var op = Sg(2, (0x1_0000_0100, 0x200), (0x1_0010_0100, 0x4_0000));
        var before = m.State.Clone();
        var failed = m.Refused(op, DmaErrorKind.NoBounceBuffer);
        Assert.Contains("entry 1", failed.Error.Message);
        Assert.Equal(Fingerprint(before), Fingerprint(m.State));
        Assert.Empty(m.State.Bounces);
        Assert.Empty(m.State.Mappings);
        Assert.DoesNotContain(m.DomainOf(2).Allocations, a => a.Owner == AllocationOwner.Mapping);
        Assert.DoesNotContain(m.DomainOf(2).Leaves.Values, l => l.Phys >= 0x7C00_0000 && l.Phys <= 0x7FFF_FFFF);
        Assert.True(m.State.Device(2)!.Pci32First);
        // The same first entry alone maps where the failed attempt had put it: nothing leaked.
        var sg = m.MapSgOk(2, (0x1_0000_0100, 0x200));
        Assert.Equal(ValueList.Of(new DmaSegment(new DmaAddr(0xFFFF_F100), 0x200)), sg.Segments);
        Assert.Equal(ValueList.Of(new PhysAddr(0x7C00_0100)), sg.Bounces);
    }

    [Fact]
    public void GartSgWhoseSecondChunkDoesNotFitLeavesNothing()
    {
        var m = New("k8-gart");
        // Fill the 64 MiB aperture but its last page: 0x400_0000 − 0x1000 = 0x3FF_F000 bytes above
        // dev 0's mask → remapped at [0x4000_0000, 0x43FF_EFFF]; 0x43FF_F000 stays free.
        Assert.Equal(0x4000_0000UL, m.MapOk(0, 0x1_0000_0000, 0x3FF_F000).Dma.Value);
        // Chunk 1 (A, above 4 GiB) takes 0x43FF_F000; B is bypassed and separates the chunks;
        // chunk 2 (C, above 4 GiB) finds no room → OutOfIova.
        var op = Sg(0, (0x1_1000_0000, 0x1000), (0x2000_0000, 0x1000), (0x1_1000_8000, 0x1000));
        var before = m.State.Clone();
        m.Refused(op, DmaErrorKind.OutOfIova);
        Assert.Equal(Fingerprint(before), Fingerprint(m.State));
        Assert.Single(m.State.Mappings);
        Assert.Single(m.DomainOf(0).Allocations);
        m.Faults(0, 0x43FF_F000);
        // The last page is still free for a one-chunk list.
        var sg = m.MapSgOk(0, (0x1_1000_0000, 0x1000), (0x2000_0000, 0x1000));
        Assert.Equal(ValueList.Of(new DmaSegment(new DmaAddr(0x43FF_F000), 0x1000), new DmaSegment(new DmaAddr(0x2000_0000), 0x1000)), sg.Segments);
    }

    [Fact]
    public void DirectSgWhoseLaterEntryCannotBeBouncedReleasesTheEarlierSlot()
    {
        // direct's 32-bit device with a 1 MiB max segment: entry 0 is bounced to [0x7C00_0000,
        // 0x7C00_0FFF]; entry 1 (0x4_0800 bytes above 4 GiB) is larger than swiotlb's 0x4_0000 limit.
        var dev = Presets.Get("direct").Device(1)! with { MaxSegmentSize = 0x10_0000 };
        var m = New(WithDevices("direct", dev));
        var before = m.State.Clone();
        m.Refused(Sg(1, (0x1_0000_0000, 0x1000), (0x1_0010_0000, 0x4_0800)), DmaErrorKind.NoBounceBuffer);
        Assert.Equal(Fingerprint(before), Fingerprint(m.State));
        Assert.Empty(m.State.Bounces);
        // The slot is free again.
        Assert.Equal(new Mapped(new DmaAddr(0x7C00_0000), new PhysAddr(0x7C00_0000)), m.Apply(new Map(1, new PhysAddr(0x1_0000_0000), 0x1000, Bidi)));
    }

    [Fact]
    public void FailedMapLeavesNoIovaBehindButEndsThirtyTwoBitFirst()
    {
        // A PCI device with a 33-bit mask (limit 0x1_FFFF_FFFF) behind VT-d.
        var dev = Presets.Get("x86-vtd").Device(0)! with { Id = 4, DmaMask = BitMask(33), CoherentMask = BitMask(33) };
        var m = New(WithDevices("x86-vtd", dev));
        Assert.True(m.State.Device(4)!.Pci32First);
        // 8 GiB, aligned to 8 GiB: below 4 GiB nothing fits (32-bit pass fails → the flag is cleared
        // for good, docs/linux-facts.md#iova-limit-and-32-bit-first); below 8 GiB it could only
        // start at IOVA 0 → the whole map fails, and leaves no allocation or leaf.
        var allocations = m.DomainOf(4).Allocations.Count;
        var leaves = m.DomainOf(4).Leaves.Count;
        m.Refused(new Map(4, new PhysAddr(0x1_0000_0000), 0x2_0000_0000, Bidi), DmaErrorKind.OutOfIova);
        Assert.Equal(allocations, m.DomainOf(4).Allocations.Count);
        Assert.Equal(leaves, m.DomainOf(4).Leaves.Count);
        Assert.Empty(m.State.Mappings);
        Assert.False(m.State.Device(4)!.Pci32First);
        // So the next map goes to the top of the 33-bit space, not below 4 GiB.
        Assert.Equal(0x1_FFFF_F000UL, m.MapOk(4, 0x1_0000_0000, K4).Dma.Value);
    }

    [Fact]
    public void RefusedMapLeavesTheThirtyTwoBitFlagAlone()
    {
        var m = New("x86-vtd");
        // Validation fails before any allocation: 0x8000_0000 is in the hole above RAM, not RAM.
        m.RefusedWithoutChange(new Map(0, new PhysAddr(0x8000_0000), 0x1000, Bidi), DmaErrorKind.NotRam);
        Assert.True(m.State.Device(0)!.Pci32First);
    }
}
