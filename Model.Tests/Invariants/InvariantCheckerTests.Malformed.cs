using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Tests;

/// <summary>Malformed states are reported, never thrown on; and StateDiff.</summary>
public partial class InvariantCheckerTests
{
    private static DmaMapping Bare(int id, int device, MappingPart part) => new()
    {
        Id = id, Device = device, Kind = MappingKind.Single, Dma = new DmaAddr(part.Dma), Size = part.Length,
        Direction = DmaDirection.Bidirectional, Phys = new PhysAddr(part.Phys), Limit = ulong.MaxValue, Parts = [part],
    };

    [Fact]
    public void Malformed_PartNamingAMissingDomainIsAnIsolationViolation()
    {
        var b = GoodStates.X86Vtd();
        b.State.Mappings.Add(Bare(99, 0, new MappingPart { Dma = 0x9000_0000, Length = 0x1000, Phys = 0x2000_0000, Domain = 99 }));
        var v = Assert.Single(Verdict.Exactly(b.State, "INV-07"));
        Assert.Contains("domain 99, which does not exist", v.Explanation);
    }

    [Fact]
    public void Malformed_DanglingDeviceAndDomainReferences()
    {
        var b = GoodStates.Direct();
        b.Device(0).Domain = 99;
        b.State.Mappings.Add(Bare(98, 42, new MappingPart { Dma = 0x2000_0000, Length = 0x1000, Phys = 0x2000_0000 }));
        var v = Verdict.Exactly(b.State, "INV-07");
        Assert.Contains(v, x => x.Explanation.Contains("attached to domain 99"));
        Assert.Contains(v, x => x.Explanation.Contains("device 42, which does not exist"));
    }

    [Fact]
    public void Malformed_EmptyAndWrappingLeavesAndIotlbEntries()
    {
        var b = GoodStates.X86Vtd();
        var d = b.State.Domain(1)!;
        d.Leaves.Add(0x3_0000_0000, new Leaf(0x3_0000_0000, 0x1000, 0, Prot.Read));
        d.Leaves.Add(0xFFFF_FFFF_FFFF_F000, new Leaf(0xFFFF_FFFF_FFFF_F000, 0x1000, 0x2000, Prot.Read));
        Assert.Equal(2, Verdict.Exactly(b.State, "INV-14").Count);

        var c = GoodStates.X86Vtd();
        c.State.Domain(2)!.Iotlb.Add(new IotlbEntry(0, 0x5000, 0x5000, 0, Prot.Read));
        Assert.Contains("empty or wraps", Assert.Single(Verdict.Exactly(c.State, "INV-08")).Explanation);
    }

    [Fact]
    public void Malformed_NullCollectionsAndMissingPlatformDoNotThrow()
    {
        var p = Presets.Get(Presets.X86Vtd);
        var empty = new SystemState { Platform = p, Devices = null!, Domains = null!, Mappings = null!, Bounces = null! };
        Verdict.Clean(InvariantChecker.Check(empty));
        Assert.Empty(StateDiff.Differences(empty, empty));

        var good = GoodStates.X86Vtd().State;
        var noPlatform = new SystemState { Platform = null!, Devices = good.Devices, Domains = good.Domains, Mappings = good.Mappings, Bounces = good.Bounces };
        Assert.Contains(InvariantChecker.Check(noPlatform), v => v.Invariant == "INV-07" && v.Explanation.Contains("no platform"));
        Assert.Contains(InvariantChecker.Check(null!), v => v.Invariant == "INV-07");
        Assert.Single(InvariantChecker.CheckStep(good, new Flush(1), Done.Instance, null!));
    }

    [Fact]
    public void Malformed_NullInsideRecordsIsReportedUnderTheInvariantThatNeededIt()
    {
        var b = GoodStates.X86Vtd();
        b.State.Domains.Add(new DomainState
        {
            Id = 7, Iommu = 0, Type = DomainType.DmaFq, Format = null!, Aperture = new AddrRange(0, 0xFFFF),
            Allocations = null!, Reserved = null!, Leaves = null!, Iotlb = null!, FlushQueue = null!, MsiPages = null!,
            TablePages = 3,
        });
        var sg = b.State.Mappings.Single(m => m.Kind == MappingKind.Sg);
        b.Replace(sg, x => new DmaMapping
        {
            Id = x.Id, Device = x.Device, Kind = x.Kind, Dma = x.Dma, Size = x.Size, Direction = x.Direction, Phys = x.Phys,
            Limit = x.Limit, Inputs = null!, Segments = null!, Parts = null!,
        });
        var v = InvariantChecker.Check(b.State);
        Assert.Contains(v, x => x.Invariant == "INV-14" && x.Explanation.Contains("no page-table format"));
        Assert.Contains(v, x => x.Invariant == "INV-09" && x.Explanation.Contains("no output segments"));
        Assert.NotEmpty(StateDiff.Differences(GoodStates.X86Vtd().State, b.State));
    }

    [Fact]
    public void Malformed_RandomCorruptionNeverThrows()
    {
        var rng = new Random(20240611);
        ulong[] sizes = [0, 1, 0xFFF, 0x1000, 0x3000, 0x20_0000, 1UL << 63, ulong.MaxValue];
        ulong Pick() => rng.Next(4) switch
        {
            0 => sizes[rng.Next(sizes.Length)],
            1 => ulong.MaxValue - (ulong)rng.Next(0x3000),
            2 => (ulong)rng.NextInt64() & ~0xFFFUL,
            _ => (ulong)rng.Next(0x10_0000) << 12,
        };
        int checkedStates = 0;
        for (int round = 0; round < 300; round++)
        {
            var (_, build) = GoodStates.All().ElementAt(round % 6);
            var s = build().State;
            for (int k = 0; k < 1 + rng.Next(4); k++)
            {
                var domain = s.Domains.Count > 0 ? s.Domains[rng.Next(s.Domains.Count)] : null;
                switch (rng.Next(10))
                {
                    case 0 when domain is not null:
                        ulong at = Pick();
                        domain.Leaves[at] = new Leaf(Pick(), Pick(), Pick(), (Prot)rng.Next(64));
                        break;
                    case 1 when domain is not null:
                        domain.Iotlb.Add(new IotlbEntry(rng.Next(4), Pick(), Pick(), Pick(), (Prot)rng.Next(64)));
                        break;
                    case 2 when s.Mappings.Count > 0:
                        int i = rng.Next(s.Mappings.Count);
                        var m = s.Mappings[i];
                        s.Mappings[i] = StateBuilder.With(m, parts: [.. m.Parts.Select(p => p with { Dma = Pick(), Length = Pick(), Domain = rng.Next(3) == 0 ? rng.Next(5) : p.Domain, Bounce = rng.Next(4) == 0 ? rng.Next(3) : p.Bounce })], limit: Pick());
                        break;
                    case 3 when s.Mappings.Count > 0:
                        int j = rng.Next(s.Mappings.Count);
                        s.Mappings[j] = StateBuilder.With(s.Mappings[j], segments: ValueList.Of(new DmaSegment(new DmaAddr(Pick()), Pick())), nents: rng.Next(-2, 4));
                        break;
                    case 4 when s.Devices.Count > 0:
                        s.Devices[rng.Next(s.Devices.Count)].Domain = rng.Next(3) == 0 ? null : rng.Next(6);
                        break;
                    case 5 when domain is not null:
                        domain.FlushQueue.Add(new FlushQueueEntry(AddrRange.FromLength(Pick() & ~(1UL << 63), 0x1000), (ulong)rng.Next(10)));
                        domain.FlushFinished = (ulong)rng.Next(10);
                        break;
                    case 6 when domain is not null:
                        domain.TablePages = rng.Next(-3, 30);
                        domain.PendingFreeTablePages = rng.Next(4) == 0 ? null : rng.Next(-3, 5);
                        break;
                    case 7:
                        ulong start = Pick() & ~(1UL << 63);
                        s.Bounces.Add(new BounceSlot(rng.Next(4), rng.Next(6), new AddrRange(start, start + 0xFFF), Pick(), Pick(), Pick(), rng.Next(2) == 0));
                        break;
                    case 8 when domain is not null:
                        ulong a = Pick() & ~(1UL << 63);
                        domain.Allocations.Add(new IovaAllocation(new AddrRange(a, a + (Pick() & 0xFFFF_FFFF)), (AllocationOwner)rng.Next(3)));
                        break;
                    default:
                        s.Devices.Add(new DeviceState { Id = rng.Next(8), Domain = rng.Next(8), DmaMask = Pick(), CoherentMask = Pick() });
                        break;
                }
            }
            var violations = InvariantChecker.Check(s);
            Assert.All(violations, v => Assert.Matches("^INV-(0[1-9]|1[0-5])$", v.Invariant));
            Assert.DoesNotContain(violations, v => v.Explanation.Contains("could not be judged"));
            int dev = rng.Next(6);
            Op[] ops =
            [
                new Unmap(dev, new LiveRef(rng.Next(3), Pick()), Pick(), DmaDirection.ToDevice),
                new UnmapSg(dev, new RawRef(Pick()), rng.Next(-1, 4), DmaDirection.FromDevice),
                new Map(dev, new PhysAddr(Pick()), Pick(), DmaDirection.Bidirectional),
                new MapSg(dev, ValueList.Of(new SgEntry(new PhysAddr(Pick()), Pick()), new SgEntry(new PhysAddr(Pick()), Pick())), DmaDirection.ToDevice),
                new AllocCoherent(dev, new PhysAddr(Pick()), Pick()),
                new SetupMsi(dev, new PhysAddr(Pick())),
            ];
            foreach (var op in ops)
            {
                Assert.All(InvariantChecker.CheckStep(s, op, new Failed(DmaErrorKind.OutOfIova, "x"), s), v => Assert.StartsWith("INV-", v.Invariant));
                Assert.All(InvariantChecker.CheckStep(s, op, Done.Instance, s), v => Assert.StartsWith("INV-", v.Invariant));
            }
            var access = new DeviceAccess(dev, new RawRef(Pick()), Pick(), rng.Next(2) == 0);
            InvariantChecker.CheckStep(s, access, new Accessed(ValueList.Of(new AccessChunk(Pick(), new PhysAddr(Pick()), Pick()))), s);
            checkedStates++;
        }
        Assert.Equal(300, checkedStates);
    }

    // ---- StateDiff ----

    [Fact]
    public void StateDiff_CloneIsEqual()
    {
        foreach (var (_, build) in GoodStates.All())
        {
            var s = build().State;
            Assert.Empty(StateDiff.Differences(s, s.Clone()));
        }
    }

    [Fact]
    public void StateDiff_NamesWhatChanged()
    {
        var a = GoodStates.X86Vtd().State;
        var b = a.Clone();
        b.Device(1)!.DmaMask = ulong.MaxValue;
        b.Domain(1)!.Leaves.Remove(GoodStates.NicSingleIova);
        b.Domain(2)!.FlushFinished = 3;
        b.Mappings.RemoveAt(0);
        b.Bounces[0] = b.Bounces[0] with { PaddingZeroed = false };
        var diffs = StateDiff.Differences(a, b);
        Assert.Contains("device 1: dma mask: 0xFFFFFFFF → 0xFFFFFFFFFFFFFFFF", diffs);
        Assert.Contains(diffs, d => d.StartsWith("domain 1: leaf removed: 0xFFFFE000->0x123456000"));
        Assert.Contains("domain 2: flushes finished: 0 → 3", diffs);
        Assert.Contains("mapping 0 removed", diffs);
        Assert.Contains(diffs, d => d.StartsWith("bounce slot 0:") && d.EndsWith("not zeroed"));
        Assert.Equal(5, diffs.Count);
    }

    [Fact]
    public void StateDiff_SeesMappingOrder()
    {
        var a = GoodStates.X86Vtd().State;
        var b = a.Clone();
        (b.Mappings[0], b.Mappings[1]) = (b.Mappings[1], b.Mappings[0]);
        Assert.Contains(StateDiff.Differences(a, b), d => d.StartsWith("mapping order"));
    }
}
