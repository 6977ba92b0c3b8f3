using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Tests;

/// <summary>INV-06 (exact translation), INV-07 (isolation), INV-08 (stale state) and INV-09
/// (scatter-gather) on hand-built states.</summary>
public partial class InvariantCheckerTests
{
    // ---- INV-06: exact translation ----

    [Fact]
    public void Inv06_Good_CoherentIsReadWriteWhateverTheDirection()
    {
        var b = new StateBuilder(Presets.ArmSmmu);
        var d = b.Domain(1, 0, DomainType.Dma, 1);
        b.Map(1, d, 0x1_0000, 0x8000_0000, 0x1000, DmaDirection.ToDevice, MappingKind.Coherent);
        Assert.Equal(Prot.Read | Prot.Write, d.Leaves[0x1_0000].Prot);
        Verdict.Clean(b.State);
    }

    [Fact]
    public void Inv06_Good_LargeMappingIsCheckedLeafByLeaf()
    {
        var b = new StateBuilder(Presets.ArmSmmu);
        var d = b.Domain(1, 0, DomainType.Dma, 2); // crypto: 40-bit mask, 4 GiB segments
        b.Map(2, d, 0x80_0000_0000, 0x8_8000_0000, 0x1_0000_0000); // 4 GiB: four 1 GiB leaves
        Assert.Equal(4, d.Leaves.Count);
        Verdict.Clean(b.State);
    }

    [Fact]
    public void Inv06_Bad_LeafSendsBytesElsewhere()
    {
        var b = GoodStates.X86Vtd();
        var d = b.State.Domain(1)!;
        ulong iova = GoodStates.SataCoherentIova + 0x1000;
        d.Leaves[iova] = d.Leaves[iova] with { Phys = 0x2100_0000 };
        var v = Assert.Single(Verdict.Exactly(b.State, "INV-06"));
        Assert.Equal(1, v.Device);
        Assert.Equal(AddrRange.FromLength(iova, 0x1000), v.Range);
    }

    [Fact]
    public void Inv06_Bad_PermissionDoesNotMatchDirection()
    {
        var b = GoodStates.X86Vtd();
        var d = b.State.Domain(1)!;
        d.Leaves[GoodStates.NicSgIova] = d.Leaves[GoodStates.NicSgIova] with { Prot = Prot.Read | Prot.Write }; // sg is to_device
        Assert.Contains("permission Read", Assert.Single(Verdict.Exactly(b.State, "INV-06")).Explanation);
    }

    [Fact]
    public void Inv06_Bad_MissingLeaf()
    {
        var b = GoodStates.X86Vtd();
        b.State.Domain(1)!.Leaves.Remove(GoodStates.SataCoherentIova + 0x2000);
        Assert.Contains("no leaf", Assert.Single(Verdict.Exactly(b.State, "INV-06")).Explanation);
    }

    [Fact]
    public void Inv06_Bad_BypassDmaIsNotPhys()
    {
        var b = GoodStates.Direct();
        b.Replace(b.State.Mappings[0], x => StateBuilder.With(x, parts: [x.Parts[0] with { Phys = x.Parts[0].Phys + 0x1000 }]));
        Verdict.Exactly(b.State, "INV-06");
    }

    [Fact]
    public void Inv06_Bad_TceDeviceBypassWithoutTheDdwOffset()
    {
        var b = GoodStates.PowerTce();
        b.MapBypass(0, 0x1_0000_0000, 0x1000); // dma == phys: not how a TCE device bypasses
        Assert.Contains("dynamic DMA window", Assert.Single(Verdict.Exactly(b.State, "INV-06")).Explanation);
    }

    [Fact]
    public void Inv06_Bad_GartLeafWithoutReadAndWrite()
    {
        // GART PTEs have no permission bits: every aperture leaf reads and writes.
        var b = GoodStates.K8Gart();
        var d = b.State.Domain(1)!;
        d.Leaves[Presets.K8Aperture.Start] = d.Leaves[Presets.K8Aperture.Start] with { Prot = Prot.Write };
        Assert.Contains("permission Read, Write", Assert.Single(Verdict.Exactly(b.State, "INV-06")).Explanation);
    }

    [Fact]
    public void Inv06_Bad_TceToDeviceLeafGrantsWrite()
    {
        // A TCE grants read always and write unless the direction is to-device.
        var b = GoodStates.PowerTce();
        var d = b.State.Domain(1)!;
        d.Leaves[0x2000] = d.Leaves[0x2000] with { Prot = Prot.Read | Prot.Write };
        Assert.Contains("permission Read,", Assert.Single(Verdict.Exactly(b.State, "INV-06")).Explanation);
    }

    // ---- INV-07: isolation ----

    [Fact]
    public void Inv07_Good_PageTableSharedByTwoSmmusOfOneFormat()
    {
        var b = GoodStates.SocVcm();
        Assert.Equal([0, 1], b.State.Domain(1)!.Iotlb.Select(e => e.Iommu).Order());
        Verdict.Clean(b.State);
    }

    [Fact]
    public void Inv07_Bad_PartNamesAnotherDevicesDomain()
    {
        var b = GoodStates.X86Vtd();
        var m = b.State.Mappings.Single(x => x.Device == 2 && x.Parts[0].Bounce is null);
        var moved = new DmaMapping
        {
            Id = m.Id, Device = 0, Kind = m.Kind, Dma = m.Dma, Size = m.Size, Direction = m.Direction, Phys = m.Phys,
            Limit = m.Limit, UntrustedDevice = m.UntrustedDevice, Parts = [.. m.Parts],
        };
        b.State.Mappings[b.State.Mappings.IndexOf(m)] = moved;
        Assert.Contains("attached to domain 1", Assert.Single(Verdict.Exactly(b.State, "INV-07")).Explanation);
    }

    [Fact]
    public void Inv07_Bad_SharedDomainWithTwoFormats()
    {
        var b = new StateBuilder(Presets.SocVcm);
        b.Domain(1, 0, DomainType.Dma, 0, 3); // display (SMMU 0, 4K) and gpu (SMMU 2, 64K stage 2)
        Assert.Contains("formats differ", Assert.Single(Verdict.Exactly(b.State, "INV-07")).Explanation);
    }

    [Fact]
    public void Inv07_Bad_IotlbEntryInAnIommuOutsideTheDomain()
    {
        var b = GoodStates.SocVcm();
        b.State.Domain(2)!.Iotlb.Add(new IotlbEntry(0, 0xFFFF_0000, 0x1_0000_0000, 0x10000, Prot.Read | Prot.Write));
        Assert.Contains("IOTLB of IOMMU 0", Assert.Single(Verdict.Exactly(b.State, "INV-07")).Explanation);
    }

    [Fact]
    public void Inv07_Bad_DeviceWithoutIommuAttachedToADomain()
    {
        var b = GoodStates.SocVcm();
        b.Device(4).Domain = 1; // the audio DSP sits behind no IOMMU
        Verdict.Exactly(b.State, "INV-07");
    }

    // ---- INV-08: stale translations and the flush queue (state) ----

    [Fact]
    public void Inv08_Good_LazyDomainMayCacheAnUnmappedRangeUntilTheFlush()
    {
        var b = GoodStates.X86Vtd();
        var fq = b.State.Domain(1)!;
        Assert.False(fq.Leaves.ContainsKey(GoodStates.PendingIova));
        Assert.Contains(fq.Iotlb, e => e.Iova == GoodStates.PendingIova);
        Verdict.Clean(b.State);
    }

    [Fact]
    public void Inv08_Bad_StrictDomainCachesAnUnmappedRange()
    {
        var b = GoodStates.X86Vtd();
        b.State.Domain(2)!.Iotlb.Add(new IotlbEntry(0, 0xFFF0_0000, 0x1_0000_4000, 0x1000, Prot.Write));
        Assert.Contains("strict", Assert.Single(Verdict.Exactly(b.State, "INV-08")).Explanation);
    }

    [Fact]
    public void Inv08_Bad_StrictDomainCachesOtherPermissions()
    {
        var b = GoodStates.X86Vtd();
        b.State.Domain(2)!.Iotlb[0] = b.State.Domain(2)!.Iotlb[0] with { Prot = Prot.Read | Prot.Write };
        Verdict.Exactly(b.State, "INV-08");
    }

    [Fact]
    public void Inv08_Bad_LazyDomainCachesAStaleRangeThatIsNotQueued()
    {
        var b = GoodStates.X86Vtd();
        b.State.Domain(1)!.Iotlb.Add(new IotlbEntry(0, GoodStates.SataCoherentIova, 0x6000_0000, 0x1000, Prot.Read | Prot.Write));
        Assert.Contains("not inside an IOVA range waiting", Assert.Single(Verdict.Exactly(b.State, "INV-08")).Explanation);
    }

    [Fact]
    public void Inv08_Bad_FinishedFlushButEntryStillHeld()
    {
        var b = GoodStates.X86Vtd();
        b.State.Domain(1)!.FlushFinished = 6;
        var v = Verdict.Exactly(b.State, "INV-08");
        Assert.Contains(v, x => x.Explanation.Contains("leaked IOVA"));
    }

    [Fact]
    public void Inv08_Bad_QueuedRangeReusedBeforeTheFlush()
    {
        var b = GoodStates.X86Vtd();
        b.State.Domain(1)!.FlushQueue.Add(new FlushQueueEntry(AddrRange.FromLength(GoodStates.NicSingleIova, 0x2000), 5));
        var v = Verdict.Exactly(b.State, "INV-08");
        Assert.Contains(v, x => x.Explanation.Contains("reuses"));
        Assert.Contains(v, x => x.Explanation.Contains("no FlushQueue allocation holds it"));
    }

    [Fact]
    public void Inv08_Bad_FlushQueueAllocationWithoutEntryLeaks()
    {
        var b = GoodStates.X86Vtd();
        b.State.Domain(1)!.Allocations.Add(new IovaAllocation(AddrRange.FromLength(0x1_0000_0000, 0x1000), AllocationOwner.FlushQueue));
        Assert.Contains("never released", Assert.Single(Verdict.Exactly(b.State, "INV-08")).Explanation);
    }

    // ---- INV-09: scatter-gather ----

    [Fact]
    public void Inv09_Good_MergedAndSplitSegments()
    {
        var b = GoodStates.X86Vtd();
        var sg = b.State.Mappings.Single(m => m.Kind == MappingKind.Sg);
        Assert.Equal(3, sg.Inputs.Count);
        Assert.Equal([new DmaSegment(new DmaAddr(GoodStates.NicSgIova), 0x2000), new DmaSegment(new DmaAddr(GoodStates.NicSgIova + 0x2100), 0x300)], sg.Segments);
        Verdict.Clean(b.State);
    }

    private static (StateBuilder, DmaMapping) SgState()
    {
        var b = GoodStates.X86Vtd();
        return (b, b.State.Mappings.Single(m => m.Kind == MappingKind.Sg));
    }

    [Fact]
    public void Inv09_Bad_SegmentLongerThanMaxSegmentSize()
    {
        var (b, sg) = SgState();
        b.Replace(sg, x => new DmaMapping
        {
            Id = x.Id, Device = x.Device, Kind = x.Kind, Dma = x.Dma, Size = x.Size, Direction = x.Direction, Phys = x.Phys,
            Nents = x.Nents, Limit = x.Limit, Inputs = x.Inputs, Segments = x.Segments, Parts = [.. x.Parts],
            MaxSegmentSize = 0x1000, SegmentBoundaryMask = x.SegmentBoundaryMask,
        });
        Assert.Contains("maximum segment size", Assert.Single(Verdict.Exactly(b.State, "INV-09")).Explanation);
    }

    [Fact]
    public void Inv09_Bad_SegmentCrossesBoundary()
    {
        var (b, sg) = SgState();
        b.Replace(sg, x => new DmaMapping
        {
            Id = x.Id, Device = x.Device, Kind = x.Kind, Dma = x.Dma, Size = x.Size, Direction = x.Direction, Phys = x.Phys,
            Nents = x.Nents, Limit = x.Limit, Inputs = x.Inputs, Segments = x.Segments, Parts = [.. x.Parts],
            MaxSegmentSize = x.MaxSegmentSize, SegmentBoundaryMask = 0xFFF,
        });
        Assert.Contains("boundary", Assert.Single(Verdict.Exactly(b.State, "INV-09")).Explanation);
    }

    [Fact]
    public void Inv09_Bad_MoreSegmentsThanInputs()
    {
        var (b, sg) = SgState();
        var split = ValueList.Of(
            new DmaSegment(new DmaAddr(GoodStates.NicSgIova), 0x800), new DmaSegment(new DmaAddr(GoodStates.NicSgIova + 0x800), 0x800),
            new DmaSegment(new DmaAddr(GoodStates.NicSgIova + 0x1000), 0x1000), new DmaSegment(new DmaAddr(GoodStates.NicSgIova + 0x2100), 0x300));
        b.Replace(sg, x => StateBuilder.With(x, segments: split));
        var v = Verdict.Exactly(b.State, "INV-09");
        Assert.Contains(v, x => x.Explanation.Contains("4 output segments for 3 inputs"));
    }

    [Fact]
    public void Inv09_Bad_PartsOutOfInputOrder()
    {
        var (b, sg) = SgState();
        var p = sg.Parts;
        b.Replace(sg, x => StateBuilder.With(x, parts: [p[1] with { Dma = p[0].Dma }, p[0] with { Dma = p[1].Dma }, p[2]]));
        // The leaves still map the old order, so the translation is wrong too.
        var v = Verdict.Exactly(b.State, "INV-06", "INV-09");
        Assert.Contains(v, x => x.Invariant == "INV-09" && x.Explanation.Contains("next input bytes"));
    }

    [Fact]
    public void Inv09_Bad_SegmentNotFilledByParts()
    {
        var (b, sg) = SgState();
        var segs = sg.Segments.ToArray();
        segs[1] = segs[1] with { Length = 0x400 }; // 0x100 bytes of the padding granule exposed
        b.Replace(sg, x => StateBuilder.With(x, segments: segs.ToValueList()));
        Assert.Contains("not filled", Assert.Single(Verdict.Exactly(b.State, "INV-09")).Explanation);
    }

    [Fact]
    public void Inv09_Bad_HandleIsNotTheFirstSegment()
    {
        var (b, sg) = SgState();
        b.Replace(sg, x => new DmaMapping
        {
            Id = x.Id, Device = x.Device, Kind = x.Kind, Dma = new DmaAddr(x.Dma.Value + 0x1000), Size = x.Size, Direction = x.Direction,
            Phys = x.Phys, Nents = x.Nents, Limit = x.Limit, Inputs = x.Inputs, Segments = x.Segments, Parts = [.. x.Parts],
            MaxSegmentSize = x.MaxSegmentSize, SegmentBoundaryMask = x.SegmentBoundaryMask,
        });
        Verdict.Exactly(b.State, "INV-09");
    }
}
