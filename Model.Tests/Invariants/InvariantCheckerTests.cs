using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Tests;

/// <summary>
/// The invariant checker on hand-built states: for every invariant a good state that reports
/// nothing and a bad state (or step) reported with exactly the right id. This file: the good
/// states of every preset and INV-01…INV-05. The other parts of the class hold INV-06…INV-09,
/// INV-10…INV-15 and the malformed-state tests.
/// </summary>
public partial class InvariantCheckerTests
{
    [Fact]
    public void EveryPresetGoodStateIsClean()
    {
        foreach (var (name, build) in GoodStates.All())
        {
            var violations = InvariantChecker.Check(build().State);
            Assert.True(violations.Count == 0, $"{name}:\n{Verdict.Describe(violations)}");
        }
    }

    // ---- INV-01: allocations do not overlap ----

    [Fact]
    public void Inv01_Good_DisjointAllocationsOfEveryOwner()
    {
        var b = GoodStates.X86Vtd();
        var fq = b.State.Domain(1)!;
        Assert.Contains(fq.Allocations, a => a.Owner == AllocationOwner.FlushQueue);
        Assert.Equal(3, fq.Allocations.Count(a => a.Owner == AllocationOwner.Mapping));
        Verdict.Clean(b.State);
    }

    [Fact]
    public void Inv01_Bad_MsiPageOverlapsAnSgAllocation()
    {
        var b = GoodStates.X86Vtd();
        b.State.Domain(1)!.Allocations.Add(new IovaAllocation(AddrRange.FromLength(GoodStates.NicSgIova + 0x1000, 0x1000), AllocationOwner.MsiPage));
        var v = Verdict.Exactly(b.State, "INV-01");
        Assert.Equal(new AddrRange(GoodStates.NicSgIova + 0x1000, GoodStates.NicSgIova + 0x1FFF), v[0].Range);
        Assert.Equal(0, v[0].Device); // the nic's sg mapping lives there
    }

    [Fact]
    public void Inv01_Bad_NestedAllocationsAreFoundBehindALongerOne()
    {
        var b = new StateBuilder(Presets.ArmSmmu);
        var d = b.Domain(1, 0, DomainType.Unmanaged);
        d.Allocations.Add(new IovaAllocation(new AddrRange(0x10000, 0x1FFFF), AllocationOwner.MsiPage));
        d.Allocations.Add(new IovaAllocation(new AddrRange(0x11000, 0x11FFF), AllocationOwner.MsiPage));
        d.Allocations.Add(new IovaAllocation(new AddrRange(0x18000, 0x18FFF), AllocationOwner.MsiPage));
        Assert.Equal(2, Verdict.Exactly(b.State, "INV-01").Count);
    }

    // ---- INV-02: no allocation in reserved IOVA space ----

    [Fact]
    public void Inv02_Good_AllocationInSoftwareMsiWindowIsAllowed()
    {
        var b = GoodStates.SocVcm();
        Assert.Contains(b.State.Domain(1)!.Allocations, a => a.Owner == AllocationOwner.MsiPage && Presets.ArmSwMsiWindow.Contains(a.Range));
        Verdict.Clean(b.State);
    }

    [Fact]
    public void Inv02_Bad_AllocationInHardwareMsiWindow()
    {
        var b = GoodStates.X86Vtd();
        b.State.Domain(1)!.Allocations.Add(new IovaAllocation(AddrRange.FromLength(Presets.X86MsiWindow.Start, 0x1000), AllocationOwner.MsiPage));
        var v = Verdict.Exactly(b.State, "INV-02");
        Assert.Contains(v, x => x.Explanation.Contains("Msi region"));
    }

    [Fact]
    public void Inv02_Bad_AllocationInPciHostWindowEvenIfTheDomainForgotToReserveIt()
    {
        var b = GoodStates.X86Vtd();
        var d = b.State.Domain(1)!;
        d.Reserved.Clear();
        d.Allocations.Add(new IovaAllocation(AddrRange.FromLength(0xC000_0000, 0x1000), AllocationOwner.MsiPage));
        var v = Verdict.Exactly(b.State, "INV-02");
        Assert.Contains("PCI host-bridge window", Assert.Single(v).Explanation);
    }

    [Fact]
    public void Inv02_Good_PciWindowIsFreeForADomainWithoutPciDevices()
    {
        var b = new StateBuilder(Presets.X86Vtd);
        var d = b.Domain(1, 0, DomainType.Dma, 3); // the dsp is a platform device
        b.Map(3, d, 0xC000_0000, 0x2000_0000, 0x1000);
        Verdict.Clean(b.State);
    }

    [Fact]
    public void Inv02_Bad_AllocationOverDirectRegion()
    {
        var b = new StateBuilder(Presets.AmdVi);
        var d = b.Domain(1, 0, DomainType.Unmanaged);
        d.Allocations.Add(new IovaAllocation(AddrRange.FromLength(0x7B00_0000, 0x1000), AllocationOwner.MsiPage));
        Assert.Contains("Direct region", Assert.Single(Verdict.Exactly(b.State, "INV-02")).Explanation);
    }

    // ---- INV-03: MSI/reserved never mapped, direct regions stay 1:1 ----

    [Fact]
    public void Inv03_Good_DirectRegionsIdentityMappedInEveryDmaDomain()
    {
        var b = new StateBuilder(Presets.AmdVi);
        b.Domain(1, 0, DomainType.Dma, 0);
        b.Domain(2, 0, DomainType.DmaFq, 1);
        Assert.Contains(b.State.Domain(2)!.Leaves.Values, l => l.Iova == 0x7B00_0000 && l.Phys == 0x7B00_0000);
        Verdict.Clean(b.State);
    }

    [Fact]
    public void Inv03_Bad_DirectRegionLostALeaf()
    {
        var b = GoodStates.X86Vtd();
        b.State.Domain(1)!.Leaves.Remove(0x7A08_0000);
        var v = Assert.Single(Verdict.Exactly(b.State, "INV-03"));
        Assert.Equal(AddrRange.FromLength(0x7A08_0000, 0x1000), v.Range);
    }

    [Fact]
    public void Inv03_Bad_DirectRegionNotOneToOne()
    {
        var b = GoodStates.X86Vtd();
        var d = b.State.Domain(2)!;
        d.Leaves[0x7A00_0000] = new Leaf(0x7A00_0000, 0x1_7D00_0000, 0x1000, Prot.Read | Prot.Write);
        // The leaf is also unaccounted for (not identity, no allocation): INV-15 reports it too.
        var v = Verdict.Exactly(b.State, "INV-03", "INV-15");
        Assert.Contains(v, x => x.Invariant == "INV-03" && x.Explanation.Contains("not 1:1"));
    }

    [Fact]
    public void Inv03_Bad_LeafInMsiWindowOfUnmanagedDomain()
    {
        var b = new StateBuilder(Presets.X86Vtd);
        var d = b.Domain(1, 0, DomainType.Unmanaged);
        StateBuilder.MapLeaves(d, 0xFEE0_0000, 0xFEE0_0000, 0x1000, Prot.Write);
        Verdict.Exactly(b.State, "INV-03");
    }

    [Fact]
    public void Inv03_Bad_LeafInHyperTransportHole()
    {
        var b = new StateBuilder(Presets.AmdVi);
        var d = b.Domain(1, 0, DomainType.Unmanaged);
        StateBuilder.MapLeaves(d, Presets.HyperTransportHole.Start, 0x1_0000_0000, 0x1000, Prot.Read);
        Assert.Contains("Reserved region", Assert.Single(Verdict.Exactly(b.State, "INV-03")).Explanation);
    }

    // ---- INV-04: bypass addresses ----

    [Fact]
    public void Inv04_Good_GartBypassTceDdwAndDirect()
    {
        Verdict.Clean(GoodStates.K8Gart().State);
        Verdict.Clean(GoodStates.PowerTce().State);
        Verdict.Clean(GoodStates.Direct().State);
    }

    [Fact]
    public void Inv04_Bad_BypassInsideGartAperture()
    {
        var b = GoodStates.K8Gart();
        b.MapBypass(0, 0x4200_0000, 0x1000);
        Assert.Contains("GART aperture", Assert.Single(Verdict.Exactly(b.State, "INV-04")).Explanation);
    }

    [Fact]
    public void Inv04_Bad_DdwPartEndsAboveTheDirectLimit()
    {
        var b = GoodStates.PowerTce();
        var m = b.MapBypass(0, 0x1_FFFF_F000, 0x2000, offset: Presets.PowerTceWindows.DdwOffset);
        b.Replace(m, x => StateBuilder.With(x, limit: ulong.MaxValue)); // keep INV-05 out of it
        Assert.Contains("direct limit", Assert.Single(Verdict.Exactly(b.State, "INV-04")).Explanation);
    }

    [Fact]
    public void Inv04_Bad_BypassAboveTheMaskIsAlsoAnInv05Violation()
    {
        var b = GoodStates.Direct();
        b.MapBypass(1, 0x1_0000_0000, 0x1000); // sata has a 32-bit mask
        Verdict.Exactly(b.State, "INV-04", "INV-05");
    }

    [Fact]
    public void Inv04_Bad_BypassWrapsPast2To64()
    {
        var b = GoodStates.Direct();
        var m = b.MapBypass(0, 0x1_0000_0000, 0x1000);
        b.Replace(m, x => StateBuilder.With(x, parts: [x.Parts[0] with { Dma = 0xFFFF_FFFF_FFFF_F000, Phys = 0xFFFF_FFFF_FFFF_F000, Length = 0x2000 }]));
        Verdict.Exactly(b.State, "INV-04", "INV-05");
    }

    // ---- INV-05: mask and aperture ----

    [Fact]
    public void Inv05_Good_CoherentMappingUsesTheCoherentMask()
    {
        var b = new StateBuilder(Presets.X86Vtd);
        var d = b.Domain(1, 0, DomainType.Dma, 3); // dsp: 40-bit streaming mask, 32-bit coherent mask
        b.Map(3, d, 0xFFFF_0000, 0x2000_0000, 0x1000, kind: MappingKind.Coherent);
        b.Map(3, d, 0xFF_FFFF_0000, 0x2000_1000, 0x1000);
        Verdict.Clean(b.State);
        Assert.Equal(0xFFFF_FFFFUL, b.State.Mappings[0].Limit);
    }

    [Fact]
    public void Inv05_Bad_TranslatedPartAboveTheMask()
    {
        var b = GoodStates.X86Vtd();
        b.Map(1, b.State.Domain(1)!, 0x1_0000_0000, 0x2100_0000, 0x1000); // sata: 32-bit mask
        Assert.Contains("DMA limit", Assert.Single(Verdict.Exactly(b.State, "INV-05")).Explanation);
    }

    [Fact]
    public void Inv05_Bad_TranslatedPartOutsideTheAperture()
    {
        var b = GoodStates.K8Gart();
        var m = b.State.Mappings.Single(x => x.Parts[0].Domain is not null);
        b.Replace(m, x => StateBuilder.With(x, parts: [x.Parts[0] with { Dma = 0x8000_1000 }]));
        // Outside the aperture there are no leaves either, so the translation is not exact.
        var v = Verdict.Exactly(b.State, "INV-05", "INV-06", "INV-15");
        Assert.Contains(v, x => x.Invariant == "INV-05" && x.Explanation.Contains("aperture"));
    }
}
