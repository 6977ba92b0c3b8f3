using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Tests;

/// <summary>INV-12 (untrusted devices), INV-13 (virtio), INV-14 (canonical page tables) and
/// INV-15 (orphans) on hand-built states.</summary>
public partial class InvariantCheckerTests
{
    // ---- INV-12: untrusted devices ----

    [Fact]
    public void Inv12_Good_BouncedSubGranuleAndAlignedBuffers()
    {
        var b = GoodStates.X86Vtd();
        var untrusted = b.State.MappingsOf(2).ToList();
        Assert.Equal(2, untrusted.Count);
        Assert.True(untrusted.All(m => m.UntrustedDevice));
        Assert.NotNull(untrusted[0].Parts[0].Bounce);
        Verdict.Clean(b.State);
    }

    [Fact]
    public void Inv12_Bad_SubGranuleBufferNotBounced()
    {
        var b = GoodStates.X86Vtd();
        b.Map(2, b.State.Domain(2)!, 0xFFFF_A000, 0x1_0000_8100, 0x100, DmaDirection.ToDevice);
        Assert.Contains("not granule-aligned", Assert.Single(Verdict.Exactly(b.State, "INV-12")).Explanation);
    }

    [Fact]
    public void Inv12_Bad_PaddingNotZeroed()
    {
        var b = GoodStates.X86Vtd();
        b.State.Bounces[0] = b.State.Bounces[0] with { PaddingZeroed = false };
        Assert.Contains("not zeroed", Assert.Single(Verdict.Exactly(b.State, "INV-12")).Explanation);
    }

    [Fact]
    public void Inv12_Bad_SlotDoesNotSpanWholeGranules()
    {
        var b = GoodStates.X86Vtd();
        var slot = b.State.Bounces[0];
        b.State.Bounces[0] = slot with { Slot = AddrRange.FromLength(slot.BufferPhys, slot.Length) };
        Assert.Contains("whole granules", Assert.Single(Verdict.Exactly(b.State, "INV-12")).Explanation);
    }

    [Fact]
    public void Inv12_Bad_TwoLiveSlotsOverlap()
    {
        var b = GoodStates.X86Vtd();
        b.MapBounced(2, b.State.Domain(2)!, 0xFFFF_B000, 0x1_0000_9010, 0x20, 0x7C00_0000);
        var v = Verdict.Exactly(b.State, "INV-12");
        Assert.Equal(2, v.Count);
        Assert.All(v, x => Assert.Contains("overlaps another live bounce slot", x.Explanation));
    }

    // ---- INV-13: virtio without ACCESS_PLATFORM ----

    [Fact]
    public void Inv13_Good_LegacyVirtioInIdentityDomain()
    {
        var b = GoodStates.Virtio();
        Assert.Equal(DomainType.Identity, b.State.Domain(b.Device(1).Domain!.Value)!.Type);
        Verdict.Clean(b.State);
    }

    [Fact]
    public void Inv13_Bad_LegacyVirtioBehindATranslatingDomain()
    {
        var b = new StateBuilder(Presets.Virtio);
        b.Domain(1, 0, DomainType.Dma, 1);
        Assert.Contains("translates them", Assert.Single(Verdict.Exactly(b.State, "INV-13")).Explanation);
    }

    [Fact]
    public void Inv13_Bad_LegacyVirtioHandedAnIova()
    {
        var b = new StateBuilder(Presets.Virtio);
        var d = b.Domain(1, 0, DomainType.Dma, 1);
        b.Map(1, d, 0xFFFF_F000, 0x2000_0000, 0x1000);
        var v = Verdict.Exactly(b.State, "INV-13");
        Assert.Contains(v, x => x.Explanation.Contains("is translated by domain 1"));
    }

    // ---- INV-14: canonical page tables ----

    [Fact]
    public void Inv14_Good_TablePagesMatchTheLeaves()
    {
        var b = GoodStates.SocVcm();
        var d = b.State.Domain(1)!;
        Assert.Equal(5, InvariantChecker.TablePagesNeeded(d.Format, d.Format.LevelBits, d.Leaves.Values));
        Verdict.Clean(b.State);
    }

    [Fact]
    public void Inv14_Bad_EmptiedTableNotFreed()
    {
        var b = GoodStates.SocVcm();
        b.State.Domain(1)!.PendingFreeTablePages = null; // the page waiting for a flush was just kept
        Assert.Contains("page-table memory leak", Assert.Single(Verdict.Exactly(b.State, "INV-14")).Explanation);
    }

    [Fact]
    public void Inv14_TablePagesNeededPerLevel()
    {
        var vtd = Formats.VtdSecondStage(4);
        Assert.Equal(1, InvariantChecker.TablePagesNeeded(vtd, vtd.LevelBits, []));
        Assert.Equal(4, InvariantChecker.TablePagesNeeded(vtd, vtd.LevelBits, [new Leaf(0x1000, 0x1000, 0x1000, Prot.Read)]));
        Assert.Equal(3, InvariantChecker.TablePagesNeeded(vtd, vtd.LevelBits, [new Leaf(0x20_0000, 0, 0x20_0000, Prot.Read)]));
        Assert.Equal(2, InvariantChecker.TablePagesNeeded(vtd, vtd.LevelBits, [new Leaf(0x4000_0000, 0, 0x4000_0000, Prot.Read)]));
        // Two 4K leaves in different 2 MiB slots of one 1 GiB slot: root, L1, L2, two leaf tables.
        Assert.Equal(5, InvariantChecker.TablePagesNeeded(vtd, vtd.LevelBits,
            [new Leaf(0x1000, 0, 0x1000, Prot.Read), new Leaf(0x20_1000, 0, 0x1000, Prot.Read)]));
        // AMD v1: a 64 KiB page is a run of entries in the 4 KiB-level table.
        var amd = Formats.AmdV1(48);
        Assert.Equal(4, InvariantChecker.TablePagesNeeded(amd, amd.LevelBits, [new Leaf(0x10000, 0, 0x10000, Prot.Read)]));
        // Flat tables are one page.
        var tce = Formats.Tce(31);
        Assert.Equal(1, InvariantChecker.TablePagesNeeded(tce, tce.LevelBits, [new Leaf(0x1000, 0, 0x1000, Prot.Read), new Leaf(0x7000_0000, 0, 0x1000, Prot.Read)]));
    }

    private static (StateBuilder, DomainState) UnmanagedArm()
    {
        var b = new StateBuilder(Presets.ArmSmmu);
        return (b, b.Domain(1, 0, DomainType.Unmanaged));
    }

    [Fact]
    public void Inv14_Good_UnmanagedDomainWithBlocks()
    {
        var (b, d) = UnmanagedArm();
        StateBuilder.MapLeaves(d, 0x4000_0000, 0x8000_0000, 0x4020_1000, Prot.Read | Prot.Write); // 1G + 2M + 4K
        Assert.Equal([0x1000UL, 0x20_0000UL, 0x4000_0000UL], d.Leaves.Values.Select(l => l.Size).Order());
        Verdict.Clean(b.State);
    }

    [Fact]
    public void Inv14_Bad_NonCanonicalLeaves()
    {
        var cases = new (Leaf Leaf, string Why)[]
        {
            (new Leaf(0x1000, 0x8000_0000, 0x20_0000, Prot.Read), "not aligned"),
            (new Leaf(0x1000, 0x8000_0000, 0x3000, Prot.Read), "does not support"),
            (new Leaf(0x1000, 0x1_0000_0000_0000, 0x1000, Prot.Read), "48-bit output"),
            (new Leaf(0x1_0000_0000_0000, 0x8000_0000, 0x1000, Prot.Read), "outside the aperture"),
            (new Leaf(0x1000, 0x8000_0000, 0x1000, Prot.Cache), "neither read nor write"),
        };
        foreach (var (leaf, why) in cases)
        {
            var (b, d) = UnmanagedArm();
            d.Leaves.Add(leaf.Iova, leaf);
            var v = Verdict.Exactly(b.State, "INV-14");
            Assert.True(v.Any(x => x.Explanation.Contains(why)), $"{leaf}: expected '{why}' in\n{Verdict.Describe(v)}");
        }
    }

    [Fact]
    public void Inv14_Bad_OverlappingAndMisfiledLeaves()
    {
        var (b, d) = UnmanagedArm();
        d.Leaves.Add(0x20_0000, new Leaf(0x20_0000, 0x8000_0000, 0x20_0000, Prot.Read));
        d.Leaves.Add(0x20_1000, new Leaf(0x20_1000, 0x9000_0000, 0x1000, Prot.Read));
        d.Leaves.Add(0x50_0000, new Leaf(0x60_0000, 0x9000_0000, 0x1000, Prot.Read));
        var v = Verdict.Exactly(b.State, "INV-14");
        Assert.Contains(v, x => x.Explanation.Contains("overlap"));
        Assert.Contains(v, x => x.Explanation.Contains("filed under"));
    }

    [Fact]
    public void Inv14_Bad_IdentityDomainWithLeaves()
    {
        var b = GoodStates.Virtio();
        var identity = b.State.Domain(1)!;
        identity.Leaves.Add(0x1000, new Leaf(0x1000, 0x1000, 0x1000, Prot.Read));
        Verdict.Exactly(b.State, "INV-14");
    }

    // ---- INV-15: orphans (state) ----

    [Fact]
    public void Inv15_Good_MsiPagesAndDirectRegionsAccountForTheirLeaves()
    {
        Verdict.Clean(GoodStates.SocVcm().State);
        Verdict.Clean(GoodStates.X86Vtd().State);
    }

    [Fact]
    public void Inv15_Bad_AllocationNoMappingUses()
    {
        var b = GoodStates.X86Vtd();
        b.State.Domain(1)!.Allocations.Add(new IovaAllocation(AddrRange.FromLength(0x1_0000_0000, 0x1000), AllocationOwner.Mapping));
        Assert.Contains("leaked IOVA", Assert.Single(Verdict.Exactly(b.State, "INV-15")).Explanation);
    }

    [Fact]
    public void Inv15_Bad_LeafLeftBehind()
    {
        var b = GoodStates.X86Vtd();
        StateBuilder.MapLeaves(b.State.Domain(1)!, 0x2_0000_0000, 0x3000_0000, 0x3000, Prot.Read);
        var v = Assert.Single(Verdict.Exactly(b.State, "INV-15"));
        Assert.Equal(new AddrRange(0x2_0000_0000, 0x2_0000_2FFF), v.Range); // one run, not three leaves
    }

    [Fact]
    public void Inv15_Bad_LazyDomainKeptTheLeavesOfAQueuedRange()
    {
        var b = GoodStates.X86Vtd();
        StateBuilder.MapLeaves(b.State.Domain(1)!, GoodStates.PendingIova, 0x5000_0000, 0x1000, Prot.Read | Prot.Write);
        Verdict.Exactly(b.State, "INV-15");
    }

    [Fact]
    public void Inv15_Bad_BounceSlotNoMappingUses()
    {
        var b = GoodStates.Direct();
        b.State.Bounces.Add(new BounceSlot(9, 1, AddrRange.FromLength(0x7C10_0000, 0x800), 0x1_3000_0000, 0x7C10_0000, 0x800, false));
        Assert.Contains("leaked", Assert.Single(Verdict.Exactly(b.State, "INV-15")).Explanation);
    }
}
