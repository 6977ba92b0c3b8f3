using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Tests;

/// <summary>The step invariants: INV-08 (stale access), INV-10 (misuse), INV-11
/// (completeness) and INV-15 (failure atomicity), each on a before/op/outcome/after.</summary>
public partial class InvariantCheckerTests
{
    private static IReadOnlyList<Violation> Step(SystemState before, Op op, Outcome outcome, SystemState? after = null) =>
        InvariantChecker.CheckStep(before, op, outcome, after ?? before.Clone());

    private static Accessed Chunk(ulong dma, ulong phys, ulong length) =>
        new(ValueList.Of(new AccessChunk(dma, new PhysAddr(phys), length)));

    // ---- INV-08: device accesses ----

    [Fact]
    public void Inv08Step_Good_AccessThroughCurrentLeaves()
    {
        var s = GoodStates.X86Vtd().State;
        var op = new DeviceAccess(2, new LiveRef(1), 0x2000, Write: true);
        Verdict.Clean(Step(s, op, Chunk(0xFFFF_C000, 0x1_0000_4000, 0x2000)));
    }

    [Fact]
    public void Inv08Step_Bad_StrictDomainAccessAfterUnmap()
    {
        var s = GoodStates.X86Vtd().State;
        var op = new DeviceAccess(2, new RawRef(0xFFF0_0000), 0x1000, Write: false);
        var v = Verdict.Exactly(Step(s, op, Chunk(0xFFF0_0000, 0x1_0000_4000, 0x1000)), "INV-08");
        Assert.Contains("has no leaf", v[0].Explanation);
    }

    [Fact]
    public void Inv08Step_Bad_WriteThroughAReadOnlyLeaf()
    {
        var s = GoodStates.X86Vtd().State;
        var op = new DeviceAccess(2, new LiveRef(0), 0x100, Write: true); // the bounced to_device buffer
        var v = Verdict.Exactly(Step(s, op, Chunk(0xFFFF_F234, 0x7C00_0234, 0x100)), "INV-08");
        Assert.Contains("lacks Write", v[0].Explanation);
    }

    [Fact]
    public void Inv08Step_Good_LazyDomainStaleHitBeforeTheFlush()
    {
        var s = GoodStates.X86Vtd().State;
        var op = new DeviceAccess(0, new RawRef(GoodStates.PendingIova), 0x1000, Write: true);
        Verdict.Clean(Step(s, op, Chunk(GoodStates.PendingIova, 0x5000_0000, 0x1000)));
    }

    [Fact]
    public void Inv08Step_Bad_LazyDomainAccessWithNeitherLeafNorCachedWalk()
    {
        var s = GoodStates.X86Vtd().State;
        var op = new DeviceAccess(0, new RawRef(GoodStates.PendingIova + 0x1000), 0x1000, Write: false);
        Verdict.Exactly(Step(s, op, Chunk(GoodStates.PendingIova + 0x1000, 0x5000_1000, 0x1000)), "INV-08");
    }

    [Fact]
    public void Inv08Step_Good_UntranslatedPaths()
    {
        var x86 = GoodStates.X86Vtd().State; // hardware MSI window
        Verdict.Clean(Step(x86, new DeviceAccess(2, new RawRef(0xFEE0_0000), 4, true), Chunk(0xFEE0_0000, 0xFEE0_0000, 4)));
        var gart = GoodStates.K8Gart().State; // GART bypass outside the aperture
        Verdict.Clean(Step(gart, new DeviceAccess(0, new LiveRef(0), 0x1000, true), Chunk(0x8000_0000, 0x8000_0000, 0x1000)));
        var tce = GoodStates.PowerTce().State; // TCE dynamic DMA window
        ulong ddw = Presets.PowerTceWindows.DdwOffset;
        Verdict.Clean(Step(tce, new DeviceAccess(0, new LiveRef(0), 0x1000, false), Chunk(ddw + 0x1_0000_0000, 0x1_0000_0000, 0x1000)));
    }

    [Fact]
    public void Inv08Step_Bad_GartAccessOutsideApertureToAnotherPhys()
    {
        var gart = GoodStates.K8Gart().State;
        Verdict.Exactly(Step(gart, new DeviceAccess(0, new LiveRef(0), 0x1000, true), Chunk(0x8000_0000, 0x9000_0000, 0x1000)), "INV-08");
    }

    // ---- INV-10: misuse ----

    private static SystemState WithoutMapping(SystemState s, int mappingId)
    {
        var after = s.Clone();
        after.Mappings.RemoveAll(m => m.Id == mappingId);
        return after;
    }

    [Fact]
    public void Inv10_Good_CorrectUnmapRemovesExactlyThatMapping()
    {
        var s = GoodStates.X86Vtd().State;
        var nicSingle = s.MappingsOf(0).First();
        var op = new Unmap(0, new LiveRef(0), 0x1800, DmaDirection.Bidirectional);
        Verdict.Clean(Step(s, op, Done.Instance, WithoutMapping(s, nicSingle.Id)));
    }

    [Fact]
    public void Inv10_Bad_CorrectUnmapRemovesTheWrongMapping()
    {
        var s = GoodStates.X86Vtd().State;
        var sg = s.MappingsOf(0).Single(m => m.Kind == MappingKind.Sg);
        var op = new Unmap(0, new LiveRef(0), 0x1800, DmaDirection.Bidirectional);
        Assert.Contains("should remove exactly", Assert.Single(Verdict.Exactly(Step(s, op, Done.Instance, WithoutMapping(s, sg.Id)), "INV-10")).Explanation);
    }

    [Fact]
    public void Inv10_Bad_CorrectUnmapRefusedAsMisuse()
    {
        var s = GoodStates.X86Vtd().State;
        var op = new Unmap(0, new LiveRef(0), 0x1800, DmaDirection.Bidirectional);
        Verdict.Exactly(Step(s, op, new Failed(DmaErrorKind.WrongSize, "no")), "INV-10");
    }

    [Fact]
    public void Inv10_Good_EachMisuseGetsItsOwnKind()
    {
        var s = GoodStates.X86Vtd().State;
        var cases = new (Op Op, DmaErrorKind Kind)[]
        {
            (new Unmap(0, new RawRef(ulong.MaxValue), 0x1000, DmaDirection.ToDevice), DmaErrorKind.InvalidDmaAddress),
            (new Unmap(0, new RawRef(0x1234_5000), 0x1000, DmaDirection.ToDevice), DmaErrorKind.UnknownHandle),
            (new Unmap(0, new RawRef(0x1234_5000), 0x1000, DmaDirection.ToDevice), DmaErrorKind.DoubleUnmap),
            (new Unmap(0, new LiveRef(0, 0x10), 0x1800, DmaDirection.Bidirectional), DmaErrorKind.UnknownHandle),
            (new Unmap(0, new LiveRef(7), 0x1800, DmaDirection.Bidirectional), DmaErrorKind.UnknownHandle),
            (new UnmapSg(0, new LiveRef(0), 1, DmaDirection.Bidirectional), DmaErrorKind.WrongFunction),
            (new Unmap(0, new LiveRef(1), 0x1, DmaDirection.FromDevice), DmaErrorKind.WrongFunction), // function before size
            (new Unmap(0, new LiveRef(0), 0x1000, DmaDirection.FromDevice), DmaErrorKind.WrongSize),  // size before direction
            (new UnmapSg(0, new LiveRef(1), 2, DmaDirection.FromDevice), DmaErrorKind.SgCountMismatch),
            (new UnmapSg(0, new LiveRef(1), 3, DmaDirection.FromDevice), DmaErrorKind.WrongDirection),
            (new FreeCoherent(1, new LiveRef(0), 0x2000), DmaErrorKind.WrongSize),
            (new UnmapResource(1, new LiveRef(0), 0x4000, DmaDirection.Bidirectional), DmaErrorKind.WrongFunction),
            (new Unmap(0, new RawRef(GoodStates.SataCoherentIova), 0x4000, DmaDirection.Bidirectional), DmaErrorKind.UnknownHandle), // another device's
        };
        foreach (var (op, kind) in cases)
        {
            var v = Step(s, op, new Failed(kind, "misuse"));
            Assert.True(v.Count == 0, $"{op} / {kind}:\n{Verdict.Describe(v)}");
        }
    }

    [Fact]
    public void Inv10_Bad_MisuseAbsorbed()
    {
        var s = GoodStates.X86Vtd().State;
        var op = new Unmap(0, new RawRef(0x1234_5000), 0x1000, DmaDirection.ToDevice);
        Assert.Contains("succeeded", Assert.Single(Verdict.Exactly(Step(s, op, Done.Instance), "INV-10")).Explanation);
    }

    [Fact]
    public void Inv10_Bad_MisuseReportedWithTheWrongKind()
    {
        var s = GoodStates.X86Vtd().State;
        var op = new UnmapSg(0, new LiveRef(1), 2, DmaDirection.FromDevice); // count checked before direction
        var v = Verdict.Exactly(Step(s, op, new Failed(DmaErrorKind.WrongDirection, "dir")), "INV-10");
        Assert.Contains("SgCountMismatch", v[0].Explanation);
    }

    [Fact]
    public void Inv10_Bad_MisuseThatChangedTheState()
    {
        var s = GoodStates.X86Vtd().State;
        var nicSingle = s.MappingsOf(0).First();
        var op = new Unmap(0, new LiveRef(0), 0x1000, DmaDirection.Bidirectional);
        // A refused op that changed state violates failure atomicity as well.
        var v = Verdict.Exactly(Step(s, op, new Failed(DmaErrorKind.WrongSize, "size"), WithoutMapping(s, nicSingle.Id)), "INV-10", "INV-15");
        Assert.Contains(v, x => x.Invariant == "INV-10" && x.Explanation.Contains($"mapping {nicSingle.Id} removed"));
    }

    // ---- INV-11: completeness ----

    [Fact]
    public void Inv11_Bad_OutOfIovaWithPlentyOfSpace()
    {
        var s = GoodStates.X86Vtd().State;
        var op = new Map(1, new PhysAddr(0x2100_0800), 0x1000, DmaDirection.ToDevice);
        var v = Assert.Single(Verdict.Exactly(Step(s, op, new Failed(DmaErrorKind.OutOfIova, "full")), "INV-11"));
        // sata's 32-bit mask: the highest 2-granule aligned hole below 4 GiB that is free.
        Assert.True(v.Range is AddrRange r && r.Last <= 0xFFFF_FFFF && r.Size == 0x2000, v.ToString());
    }

    /// <summary>x86 dsp (not PCI) limited to a 24-bit mask, with everything below 16 MiB taken
    /// except the given holes.</summary>
    private static SystemState TinyIovaSpace(params AddrRange[] holes)
    {
        var b = new StateBuilder(Presets.X86Vtd);
        var d = b.Domain(1, 0, DomainType.Dma, 3);
        b.Device(3).DmaMask = b.Device(3).CoherentMask = 0xFF_FFFF;
        ulong cursor = d.AllocStart;
        foreach (var hole in holes.OrderBy(h => h.Start).Append(new AddrRange(0x100_0000, 0x100_0000)))
        {
            if (hole.Start > cursor) d.Allocations.Add(new IovaAllocation(new AddrRange(cursor, hole.Start - 1), AllocationOwner.FlushQueue));
            cursor = hole.Last + 1;
        }
        return b.State;
    }

    [Fact]
    public void Inv11_Good_OutOfIovaWhenNoAlignedHoleFits()
    {
        // Two free granules at 0x3000..0x4FFF, but a 2-granule request must be 0x2000-aligned.
        var s = TinyIovaSpace(new AddrRange(0x3000, 0x4FFF));
        var op = new Map(3, new PhysAddr(0x2000_0000), 0x2000, DmaDirection.ToDevice);
        Verdict.Clean(Step(s, op, new Failed(DmaErrorKind.OutOfIova, "full")));
    }

    [Fact]
    public void Inv11_Bad_OutOfIovaThoughTheOffsetBufferFitsTheHole()
    {
        var s = TinyIovaSpace(new AddrRange(0x4000, 0x5FFF));
        var op = new Map(3, new PhysAddr(0x2000_0F00), 0x200, DmaDirection.ToDevice); // straddles a granule: 2 granules
        var v = Assert.Single(Verdict.Exactly(Step(s, op, new Failed(DmaErrorKind.OutOfIova, "full")), "INV-11"));
        Assert.Equal(new AddrRange(0x4000, 0x5FFF), v.Range);
    }

    [Fact]
    public void Inv11_CoherentUsesTheCoherentMask()
    {
        var b = GoodStates.X86Vtd();
        var before = b.State;
        // dsp: 40-bit streaming mask but 32-bit coherent mask; fill the IOVA space below 4 GiB.
        var d = b.Domain(3, 0, DomainType.Dma, 3);
        d.Allocations.Add(new IovaAllocation(new AddrRange(d.AllocStart, 0xFFFF_FFFF), AllocationOwner.FlushQueue));
        var coherent = new AllocCoherent(3, new PhysAddr(0x2000_0000), 0x1000);
        Verdict.Clean(Step(before, coherent, new Failed(DmaErrorKind.OutOfIova, "full")));
        var streaming = new Map(3, new PhysAddr(0x2000_0000), 0x1000, DmaDirection.ToDevice);
        Verdict.Exactly(Step(before, streaming, new Failed(DmaErrorKind.OutOfIova, "full")), "INV-11");
    }

    [Fact]
    public void Inv11_MapSgAndSetupMsi()
    {
        var s = TinyIovaSpace(new AddrRange(0x4000, 0x7FFF));
        var fits = new MapSg(3, ValueList.Of(new SgEntry(new PhysAddr(0x2000_0000), 0x1000), new SgEntry(new PhysAddr(0x2100_0000), 0x2000)), DmaDirection.ToDevice);
        Verdict.Exactly(Step(s, fits, new Failed(DmaErrorKind.OutOfIova, "full")), "INV-11");
        var tooBig = new MapSg(3, ValueList.Of(new SgEntry(new PhysAddr(0x2000_0000), 0x3000), new SgEntry(new PhysAddr(0x2100_0000), 0x2000)), DmaDirection.ToDevice);
        Verdict.Clean(Step(s, tooBig, new Failed(DmaErrorKind.OutOfIova, "full")));
        // x86 MSIs go to the untranslated hardware window: no IOVA is needed at all.
        var msi = new SetupMsi(3, new PhysAddr(0xFEE0_0000));
        Assert.Contains("hardware MSI window", Assert.Single(Verdict.Exactly(Step(s, msi, new Failed(DmaErrorKind.OutOfIova, "full")), "INV-11")).Explanation);
    }

    [Fact]
    public void Inv11_PageGranularAllocatorOfTheGart()
    {
        var b = GoodStates.K8Gart();
        var gart = b.State.Domain(1)!;
        var op = new Map(1, new PhysAddr(0x4200_0000), 0x3000, DmaDirection.ToDevice);
        Verdict.Exactly(Step(b.State, op, new Failed(DmaErrorKind.OutOfIova, "full")), "INV-11");
        // Leave two pages free at the top of the aperture: page granular needs no alignment.
        gart.Allocations.Add(new IovaAllocation(new AddrRange(Presets.K8Aperture.Start + 0x2000, Presets.K8Aperture.Last - 0x2000), AllocationOwner.FlushQueue));
        Verdict.Clean(Step(b.State, op, new Failed(DmaErrorKind.OutOfIova, "full")));
        var twoPages = new Map(1, new PhysAddr(0x4200_0000), 0x2000, DmaDirection.ToDevice);
        Verdict.Exactly(Step(b.State, twoPages, new Failed(DmaErrorKind.OutOfIova, "full")), "INV-11");
    }

    [Fact]
    public void Inv11_OtherFailuresAreNotJudged()
    {
        var s = GoodStates.X86Vtd().State;
        var op = new Map(1, new PhysAddr(0x2100_0800), 0x1000, DmaDirection.ToDevice);
        Verdict.Clean(Step(s, op, new Failed(DmaErrorKind.NotCapable, "no")));
    }

    // ---- INV-15: failure atomicity (step) ----

    [Fact]
    public void Inv15Step_Good_FailedMapChangedNothingButThe32BitFirstFlag()
    {
        var s = GoodStates.X86Vtd().State;
        var after = s.Clone();
        Assert.True(after.Device(0)!.Pci32First);
        after.Device(0)!.Pci32First = false; // pci_32bit_workaround is dropped for good
        var op = new Map(0, new PhysAddr(0x2100_0000), 0x1000, DmaDirection.ToDevice);
        Verdict.Clean(Step(s, op, new Failed(DmaErrorKind.OutOfMemory, "fail_nth"), after));
    }

    [Fact]
    public void Inv15Step_Bad_FailedMapLeftAPartialMapping()
    {
        var s = GoodStates.X86Vtd().State;
        var after = s.Clone();
        after.Domain(1)!.Allocations.Add(new IovaAllocation(AddrRange.FromLength(0xFFFE_0000, 0x1000), AllocationOwner.Mapping));
        after.Domain(1)!.Leaves.Add(0xFFFE_0000, new Leaf(0xFFFE_0000, 0x2100_0000, 0x1000, Prot.Read));
        var op = new Map(0, new PhysAddr(0x2100_0000), 0x1000, DmaDirection.ToDevice);
        var v = Assert.Single(Verdict.Exactly(Step(s, op, new Failed(DmaErrorKind.OutOfMemory, "fail_nth"), after), "INV-15"));
        Assert.Contains("allocation added", v.Explanation);
        Assert.Contains("leaf added", v.Explanation);
    }

    [Fact]
    public void Inv15Step_Good_FaultsAndSuccessesMayChangeState()
    {
        var s = GoodStates.X86Vtd().State;
        var after = s.Clone();
        after.Domain(2)!.Iotlb.Clear();
        Verdict.Clean(Step(s, new DeviceAccess(2, new RawRef(0x1000), 4, false), new Failed(DmaErrorKind.Fault, "fault"), after));
        Verdict.Clean(Step(s, new Flush(2), Done.Instance, after));
    }
}
