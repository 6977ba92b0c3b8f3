using DmaVerify.Contracts;
using DmaVerify.Model;
using static DmaVerify.Tests.Model.Kit;

namespace DmaVerify.Tests.Model;

/// <summary>
/// Refinement: Check judges an implementation's outcome; an allowed choice is adopted,
/// anything else is a divergence naming the invariant, and the model's state is left as it was.
/// x86-vtd dev 3: non-PCI, 40-bit mask → limit 0xFF_FFFF_FFFF; lowest allocatable IOVA 0x1000;
/// reserved MSI 0xFEE0_0000..0xFEEF_FFFF and RMRR 0x7A00_0000..0x7A0F_FFFF.
/// </summary>
public class RefinementCheckTests
{
    private static Map MapOp(int device, ulong phys, ulong length) => new(device, new PhysAddr(phys), length, Bidi);

    private static Mapped At(ulong dma) => new(new DmaAddr(dma));

    [Fact]
    public void LowestFitIsAllowedAndAdopted()
    {
        var m = New("x86-vtd");
        // The model's own choice would be 0xFF_FFFF_F000; the lowest fit 0x1000 is just as allowed.
        Assert.Equal(At(0xFF_FFFF_F000), m.DryRun(MapOp(3, 0x1_0000_0000, K4)));
        var result = m.Check(MapOp(3, 0x1_0000_0000, K4), At(0x1000));
        Assert.True(result.Agrees, result.Divergence?.ToString());
        Assert.Equal(At(0x1000), result.Outcome);
        // Adopted: the mapping, its allocation and its leaf are at 0x1000.
        Assert.Equal(0x1000UL, Assert.Single(m.State.Mappings).Dma.Value);
        Assert.Contains(m.DomainOf(3).Allocations, a => a.Range == new AddrRange(0x1000, 0x1FFF) && a.Owner == AllocationOwner.Mapping);
        Assert.Contains(new Leaf(0x1000, 0x1_0000_0000, K4, Prot.Read | Prot.Write), m.DomainOf(3).Leaves.Values);
        m.Reaches(3, 0x1000, 0x1_0000_0000, K4);
        // The model's next own choice is unaffected (still the top).
        Assert.Equal(0xFF_FFFF_F000UL, m.MapOk(3, 0x1_0000_1000, K4).Dma.Value);
    }

    [Fact]
    public void InPageOffsetOfTheProposalIsPartOfTheAnswer()
    {
        var m = New("x86-vtd");
        // phys offset 0x123 → any allowed IOVA + 0x123 is fine …
        Assert.True(m.Check(MapOp(3, 0x1_0000_0123, 0x10), At(0x5123)).Agrees);
        // … but the offset must be kept: 0x6000 would put the IOVA range at 0x6000 - 0x123.
        var r = m.Check(MapOp(3, 0x1_0000_0123, 0x10), At(0x6000));
        Assert.Equal("ALLOC", r.Divergence?.Invariant);
    }

    [Theory]
    [InlineData(K4, 0x1000UL, "INV-01")]                 // the live allocation [0x1000, 0x1FFF]
    [InlineData(0x2000UL, 0x0UL, "INV-05")]               // 2 pages at IOVA 0: below the lowest allocatable IOVA
    [InlineData(K4, 0xFEE0_0000UL, "INV-02")]            // MSI window
    [InlineData(K4, 0xFEEF_F000UL, "INV-02")]            // MSI window, last page
    [InlineData(0x10_0000UL, 0xFEE0_0000UL, "INV-02")]   // 1 MiB exactly over the MSI window
    [InlineData(K4, 0x7A08_0000UL, "INV-02")]            // inside the RMRR
    [InlineData(K4, 0x100_0000_0000UL, "INV-05")]        // above the 40-bit mask
    [InlineData(0x2000UL, 0x100_0000_0000UL, "INV-05")]  // 2 aligned pages at 2^40: above the mask
    [InlineData(0x2000UL, 0x3000UL, "ALLOC")]            // 2 pages must be 0x2000-aligned
    [InlineData(0x3000UL, 0x6000UL, "ALLOC")]            // 3 pages → 4 pages aligned to 0x4000
    public void DisallowedIovaIsADivergenceAndChangesNothing(ulong length, ulong proposed, string invariant)
    {
        var m = New("x86-vtd");
        Assert.True(m.Check(MapOp(3, 0x1_0000_0000, K4), At(0x1000)).Agrees);
        var before = m.State.Clone();
        var op = MapOp(3, 0x1_0001_0000, length);
        var result = m.Check(op, At(proposed));
        Assert.NotNull(result.Divergence);
        Assert.Equal(invariant, result.Divergence!.Invariant);
        Assert.Equal(At(proposed), result.Divergence.Proposed);
        // The divergence reports what the model would have answered: its highest fit.
        Assert.Equal(m.DryRun(op), result.Divergence.ModelOutcome);
        Assert.Equal(Fingerprint(before), Fingerprint(m.State));
    }

    [Fact]
    public void OutOfIovaWhenSpaceExistsIsIncomplete()
    {
        var m = New("x86-vtd");
        var before = m.State.Clone();
        var result = m.Check(MapOp(3, 0x1_0000_0000, K4), new Failed(DmaErrorKind.OutOfIova, "full"));
        Assert.Equal("INV-11", result.Divergence?.Invariant);
        Assert.Equal(Fingerprint(before), Fingerprint(m.State));
    }

    [Fact]
    public void OutOfIovaWhenNothingFitsAgrees()
    {
        // A 24-bit device behind the IOMMU: limit 0xFF_FFFF. 16 MiB = 4096 pages (not rounded,
        // aligned to 16 MiB) could only start at IOVA 0, which is never allocated → nothing fits.
        var dev = Presets.Get("x86-vtd").Device(3)! with { Id = 4, DmaMask = BitMask(24), CoherentMask = BitMask(24) };
        var m = New(WithDevices("x86-vtd", dev));
        var op = MapOp(4, 0x1_0000_0000, 0x100_0000);
        Assert.Equal(DmaErrorKind.OutOfIova, Assert.IsType<Failed>(m.DryRun(op)).Kind);
        var before = m.State.Clone();
        var r = m.Check(op, new Failed(DmaErrorKind.OutOfIova, "full"));
        Assert.True(r.Agrees, r.Divergence?.ToString());
        Assert.Equal(Fingerprint(before), Fingerprint(m.State));
        // Half of it (8 MiB, aligned to 8 MiB) fits at 0x80_0000: claiming exhaustion is incomplete.
        Assert.Equal("INV-11", m.Check(MapOp(4, 0x1_0000_0000, 0x80_0000), new Failed(DmaErrorKind.OutOfIova, "full")).Divergence?.Invariant);
    }

    [Fact]
    public void OutOfMemoryIsAcceptedOnlyWhenResourceFailuresAreAllowed()
    {
        var oom = new Failed(DmaErrorKind.OutOfMemory, "injected");
        var strict = New("x86-vtd");
        var before = strict.State.Clone();
        var refused = strict.Check(MapOp(3, 0x1_0000_0000, K4), oom);
        Assert.NotNull(refused.Divergence);
        Assert.Equal(Fingerprint(before), Fingerprint(strict.State));

        var lenient = New("x86-vtd", new ModelOptions { AllowResourceFailures = true });
        before = lenient.State.Clone();
        var accepted = lenient.Check(MapOp(3, 0x1_0000_0000, K4), oom);
        Assert.True(accepted.Agrees);
        Assert.Equal(oom, accepted.Outcome);
        Assert.Equal(Fingerprint(before), Fingerprint(lenient.State));
        // Not for ops that allocate nothing: an unmap cannot fail for memory.
        lenient.MapOk(3, 0x1_0000_0000, K4);
        Assert.NotNull(lenient.Check(new Unmap(3, new LiveRef(0), K4, Bidi), oom).Divergence);
    }

    [Fact]
    public void PciDeviceMustGetALowIovaWhileOneFits()
    {
        var m = New("x86-vtd");
        // dev 0 is still 32-bit first and 0xFFFF_F000 fits below 4 GiB: a high IOVA is incomplete.
        var before = m.State.Clone();
        var r = m.Check(MapOp(0, 0x1_0000_0000, K4), At(0xFFFF_FFFF_F000));
        Assert.Equal("INV-11", r.Divergence?.Invariant);
        Assert.Equal(Fingerprint(before), Fingerprint(m.State));
        // Any low one is fine and keeps the device 32-bit first.
        Assert.True(m.Check(MapOp(0, 0x1_0000_0000, K4), At(0x1000)).Agrees);
        Assert.True(m.State.Device(0)!.Pci32First);
        // With StrictPci32First off, giving up early is allowed and clears the flag.
        var lax = New("x86-vtd", new ModelOptions { StrictPci32First = false });
        Assert.True(lax.Check(MapOp(0, 0x1_0000_0000, K4), At(0xFFFF_FFFF_F000)).Agrees);
        Assert.False(lax.State.Device(0)!.Pci32First);
    }

    [Fact]
    public void AgreedFailureKeepsTheClearedThirtyTwoBitFlagButADivergenceDoesNot()
    {
        // A 33-bit PCI device: an 8 GiB map (aligned to 8 GiB) fits neither below 4 GiB nor below
        // 8 GiB (it could only start at IOVA 0). Linux clears pci_32bit_workaround when the 32-bit
        // pass fails, before the map fails (docs/linux-facts.md#iova-limit-and-32-bit-first).
        var dev = Presets.Get("x86-vtd").Device(0)! with { Id = 4, DmaMask = BitMask(33), CoherentMask = BitMask(33) };
        var big = MapOp(4, 0x1_0000_0000, 0x2_0000_0000);

        var agreed = New(WithDevices("x86-vtd", dev));
        Assert.True(agreed.Check(big, new Failed(DmaErrorKind.OutOfIova, "full")).Agrees);
        Assert.False(agreed.State.Device(4)!.Pci32First);

        // The implementation fails with another kind: a divergence, and the model's state —
        // the flag included — is as before the op.
        var diverged = New(WithDevices("x86-vtd", dev));
        var before = diverged.State.Clone();
        Assert.NotNull(diverged.Check(big, new Failed(DmaErrorKind.NotCapable, "no")).Divergence);
        Assert.True(diverged.State.Device(4)!.Pci32First);
        Assert.Equal(Fingerprint(before), Fingerprint(diverged.State));
    }

    [Fact]
    public void LazyWindowAllowsStaleOrFaultAndAdoptsTheFault()
    {
        var m = New("x86-vtd");
        m.MapOk(0, 0x1_0000_0000, K4);
        m.Reaches(0, 0xFFFF_F000, 0x1_0000_0000, K4);
        m.Ok<Done>(new Unmap(0, new LiveRef(0), K4, Bidi));
        // The implementation's IOTLB did not keep the walk: a fault is allowed …
        var r = m.Check(Access(0, 0xFFFF_F000, 4), new Failed(DmaErrorKind.Fault, "translation fault"));
        Assert.True(r.Agrees, r.Divergence?.ToString());
        // … and adopted: the model no longer holds the stale entry either.
        m.Faults(0, 0xFFFF_F000);
    }

    [Fact]
    public void StaleHitIsAllowedInTheLazyWindow()
    {
        var m = New("x86-vtd");
        m.MapOk(0, 0x1_0000_0000, K4);
        m.Reaches(0, 0xFFFF_F000, 0x1_0000_0000, K4);
        m.Ok<Done>(new Unmap(0, new LiveRef(0), K4, Bidi));
        var stale = new Accessed(ValueList.Of(new AccessChunk(0xFFFF_F000, new PhysAddr(0x1_0000_0000), 4)));
        Assert.True(m.Check(Access(0, 0xFFFF_F000, 4), stale).Agrees);
        // but reaching anything else is a translation divergence
        var wrong = new Accessed(ValueList.Of(new AccessChunk(0xFFFF_F000, new PhysAddr(0x1_0000_1000), 4)));
        Assert.Equal("INV-06", m.Check(Access(0, 0xFFFF_F000, 4), wrong).Divergence?.Invariant);
    }

    [Fact]
    public void FaultOnALiveStrictMappingIsADivergence()
    {
        var m = New("amd-vi");
        m.MapOk(0, 0x1_0000_0000, K4);
        var before = m.State.Clone();
        var r = m.Check(Access(0, 0xFFFF_F000, 4), new Failed(DmaErrorKind.Fault, "translation fault"));
        Assert.NotNull(r.Divergence);
        Assert.Equal(Fingerprint(before), Fingerprint(m.State));
    }

    [Fact]
    public void AccessAfterStrictUnmapMustFault()
    {
        var m = New("amd-vi");
        m.MapOk(0, 0x1_0000_0000, K4);
        m.Reaches(0, 0xFFFF_F000, 0x1_0000_0000, K4);
        m.Ok<Done>(new Unmap(0, new LiveRef(0), K4, Bidi));
        var stale = new Accessed(ValueList.Of(new AccessChunk(0xFFFF_F000, new PhysAddr(0x1_0000_0000), 4)));
        Assert.NotNull(m.Check(Access(0, 0xFFFF_F000, 4), stale).Divergence);
    }

    [Fact]
    public void DifferentBounceSlotIsAllowedButNotAnOverlappingOne()
    {
        var m = New("direct");
        // dev 1 bounces 0x1_0000_0000; the model would take the pool's start 0x7C00_0000.
        Assert.True(m.Check(MapOp(1, 0x1_0000_0000, K4), new Mapped(new DmaAddr(0x7C01_0000), new PhysAddr(0x7C01_0000))).Agrees);
        Assert.Equal(new AddrRange(0x7C01_0000, 0x7C01_0FFF), Assert.Single(m.State.Bounces).Slot);
        var before = m.State.Clone();
        var r = m.Check(MapOp(1, 0x1_0000_2000, K4), new Mapped(new DmaAddr(0x7C01_0800), new PhysAddr(0x7C01_0800)));
        Assert.Equal("INV-01", r.Divergence?.Invariant);
        Assert.Equal(Fingerprint(before), Fingerprint(m.State));
    }
}
