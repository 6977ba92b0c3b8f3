using DmaVerify.Contracts;
using FsCheck;
using FsCheck.Fluent;
using Outcome = DmaVerify.Contracts.Outcome;

namespace DmaVerify.Tests.Common;

/// <summary>
/// FsCheck generators for the vocabulary types, in one place. A test class takes them all with
/// <c>[Properties(Arbitrary = [typeof(Arbitraries)])]</c>; its <c>[Property]</c> methods then
/// receive addresses, ranges, protections, ops, outcomes and whole scenarios as parameters.
///
/// 64-bit values are not FsCheck's small sized integers: they lean on the edges where address
/// arithmetic breaks (0, 2^64 − 1, powers of two and their neighbours, all-ones prefixes,
/// aligned values) and shrink towards 0 by halving and clearing bits.
/// </summary>
public static class Arbitraries
{
    // ---------------------------------------------------------------- numbers

    private static readonly Gen<ulong> AnyBits =
        from hi in Gen.Choose(int.MinValue, int.MaxValue)
        from lo in Gen.Choose(int.MinValue, int.MaxValue)
        select ((ulong)(uint)hi << 32) | (uint)lo;

    private static readonly Gen<int> Shift = Gen.Choose(0, 63);

    /// <summary>64-bit values with the edges of address arithmetic well represented.</summary>
    public static readonly Gen<ulong> UInt64Gen = Gen.Frequency(
        (4, AnyBits),
        (1, Gen.Elements(0UL, 1UL, ulong.MaxValue, ulong.MaxValue - 1, 1UL << 63, (1UL << 32) - 1, 1UL << 32)),
        (2, Gen.Choose(0, 0x2000).Select(v => (ulong)v)),
        (2, from s in Shift from d in Gen.Choose(-1, 1) select unchecked((1UL << s) + (ulong)(long)d)),
        (1, from s in Shift from low in Gen.Frequency((1, Gen.Constant(0)), (1, Gen.Choose(0, 0x2000))) select ~((1UL << s) - 1) | (uint)low),
        (1, Gen.Choose(0, 0x2000).Select(v => ulong.MaxValue - (ulong)v)),
        (2, from x in AnyBits from s in Shift select x >> s << s),
        (2, from x in AnyBits from s in Shift select x >> s));

    /// <summary>Smaller values first: 0, half, the top bit cleared, the lowest bit cleared, one less.</summary>
    public static IEnumerable<ulong> ShrinkUInt64(ulong v)
    {
        if (v == 0) yield break;
        yield return 0;
        if (v >> 1 != 0) yield return v >> 1;
        ulong top = v & ~(HighestBit(v));
        if (top != 0 && top != v >> 1) yield return top;
        ulong low = v & (v - 1);
        if (low != 0 && low != top) yield return low;
        if (v - 1 != low) yield return v - 1;
    }

    private static ulong HighestBit(ulong v) => 1UL << (63 - System.Numerics.BitOperations.LeadingZeroCount(v));

    public static Arbitrary<ulong> UInt64s() => Arb.From(UInt64Gen, ShrinkUInt64);

    /// <summary>Bytes, signed bytes and 16-bit values uniformly over their whole range (FsCheck's
    /// own grow with the test size, from 0 to about 100): properties use them as choices,
    /// widths and small signed offsets ("slack") around an edge.</summary>
    public static Arbitrary<byte> Bytes() => Arb.From(Gen.Choose(0, 255).Select(v => (byte)v), b => ShrinkSmall(b).Select(v => (byte)v));

    public static Arbitrary<sbyte> SBytes() => Arb.From(Gen.Choose(-128, 127).Select(v => (sbyte)v),
        b => ShrinkSmall(Math.Abs((int)b)).Select(v => (sbyte)(b < 0 ? -v : v)));

    public static Arbitrary<ushort> UInt16s() => Arb.From(Gen.Choose(0, ushort.MaxValue).Select(v => (ushort)v), u => ShrinkSmall(u).Select(v => (ushort)v));

    private static IEnumerable<int> ShrinkSmall(int v)
    {
        if (v <= 0) yield break;
        yield return 0;
        if (v / 2 != 0) yield return v / 2;
        if (v - 1 != v / 2 && v - 1 != 0) yield return v - 1;
    }

    /// <summary>Ids: the edges of int and a few small values, as scenario text must carry them.</summary>
    public static readonly Gen<int> IdGen = Gen.Frequency(
        (1, Gen.Constant(int.MinValue)),
        (1, Gen.Constant(int.MaxValue)),
        (1, Gen.Choose(-3, -1)),
        (3, Gen.Choose(0, 7)));

    // ---------------------------------------------------------------- addresses

    public static Arbitrary<PhysAddr> PhysAddrs() => UInt64s().Convert(v => new PhysAddr(v), a => a.Value);

    public static Arbitrary<Iova> Iovas() => UInt64s().Convert(v => new Iova(v), a => a.Value);

    public static Arbitrary<DmaAddr> DmaAddrs() => UInt64s().Convert(v => new DmaAddr(v), a => a.Value);

    /// <summary>Non-empty inclusive ranges anywhere in 2^64, short ones often (one byte, a page).</summary>
    public static Arbitrary<AddrRange> AddrRanges() => Arb.From(
        Gen.Frequency(
            (2, from a in UInt64Gen from b in UInt64Gen select new AddrRange(Math.Min(a, b), Math.Max(a, b))),
            (2, from start in UInt64Gen from len in Gen.Choose(0, 0x2000) select new AddrRange(start, start > ulong.MaxValue - (ulong)len ? ulong.MaxValue : start + (ulong)len))),
        r => ShrinkUInt64(r.Last - r.Start).Select(len => new AddrRange(r.Start, r.Start + len))
            .Concat(ShrinkUInt64(r.Start).Select(s => new AddrRange(s, s + (r.Last - r.Start)))));

    // ---------------------------------------------------------------- flags and enums

    public static Arbitrary<Prot> Prots() => Gen.Choose(0, 63).Select(b => (Prot)b).ToArbitrary();

    public static Arbitrary<DmaAttrs> AttrFlags() => Gen.Choose(0, 3).Select(b => (DmaAttrs)b).ToArbitrary();

    public static Gen<T> AnyOf<T>() where T : struct, Enum => Gen.Elements(Enum.GetValues<T>());

    // ---------------------------------------------------------------- ops, outcomes, scenarios

    private static readonly Gen<AddressRef> RefGen = Gen.OneOf(
        IdGen.Select(i => (AddressRef)new LiveRef(i)),
        from i in IdGen from off in UInt64Gen select (AddressRef)new LiveRef(i, off),
        UInt64Gen.Select(a => (AddressRef)new RawRef(a)));

    public static Arbitrary<AddressRef> AddressRefs() => RefGen.ToArbitrary();

    private static Gen<ValueList<T>> ListOf<T>(Gen<T> item) =>
        from n in Gen.Choose(0, 3) from items in Gen.ListOf(item, n) select items.ToValueList();

    private static readonly Gen<PhysAddr> PhysGen = UInt64Gen.Select(v => new PhysAddr(v));
    private static readonly Gen<DmaDirection> DirGen = AnyOf<DmaDirection>();

    /// <summary>Every op kind, with every field anywhere in its type's range (text must carry
    /// values no system would accept).</summary>
    public static readonly Gen<Op> OpGen = Gen.OneOf(
        from d in IdGen from t in AnyOf<DomainType>() select (Op)new AllocDomain(d, t),
        from d in IdGen from m in IdGen select (Op)new Attach(d, m),
        from d in IdGen from t in AnyOf<DomainType>() select (Op)new SetDomainType(d, t),
        from d in IdGen from m in UInt64Gen from c in UInt64Gen select (Op)new SetMask(d, m, c),
        from d in IdGen from p in PhysGen from l in UInt64Gen from dir in DirGen from a in Gen.Choose(0, 3)
        select (Op)new Map(d, p, l, dir, (DmaAttrs)a),
        from d in IdGen from r in RefGen from l in UInt64Gen from dir in DirGen select (Op)new Unmap(d, r, l, dir),
        from d in IdGen from s in ListOf(from p in PhysGen from l in UInt64Gen select new SgEntry(p, l)) from dir in DirGen
        select (Op)new MapSg(d, s, dir),
        from d in IdGen from r in RefGen from n in IdGen from dir in DirGen select (Op)new UnmapSg(d, r, n, dir),
        from d in IdGen from p in PhysGen from l in UInt64Gen select (Op)new AllocCoherent(d, p, l),
        from d in IdGen from r in RefGen from l in UInt64Gen select (Op)new FreeCoherent(d, r, l),
        from d in IdGen from p in PhysGen from l in UInt64Gen from dir in DirGen select (Op)new MapResource(d, p, l, dir),
        from d in IdGen from r in RefGen from l in UInt64Gen from dir in DirGen select (Op)new UnmapResource(d, r, l, dir),
        from d in IdGen from i in UInt64Gen from p in PhysGen from l in UInt64Gen from b in Gen.Choose(0, 63)
        select (Op)new IommuMap(d, new Iova(i), p, l, (Prot)b),
        from d in IdGen from i in UInt64Gen from l in UInt64Gen select (Op)new IommuUnmap(d, new Iova(i), l),
        from d in IdGen from r in RefGen from l in UInt64Gen from w in Gen.Elements(true, false) select (Op)new DeviceAccess(d, r, l, w),
        from d in IdGen from p in PhysGen select (Op)new SetupMsi(d, p),
        IdGen.Select(d => (Op)new Flush(d)),
        UInt64Gen.Select(ms => (Op)new Tick(ms)));

    public static Arbitrary<Op> Ops() => OpGen.ToArbitrary();

    /// <summary>Messages and names with everything a quoted string must survive: quotes,
    /// backslashes, comment and arrow characters, control characters, non-ASCII, lone surrogates.</summary>
    public static readonly Gen<string> TextGen =
        from n in Gen.Choose(0, 12)
        from chars in Gen.ArrayOf(Gen.Elements("abc XYZ 0123 -_.@/:+ \"\\#=|,\t\n\r\0é漢😀\uD800\u2028".ToCharArray()), n)
        select new string(chars);

    public static readonly Gen<Outcome> OutcomeGen = Gen.OneOf(
        Gen.Constant((Outcome)Done.Instance),
        from dma in UInt64Gen from bounce in Gen.OneOf(Gen.Constant<PhysAddr?>(null), PhysGen.Select(p => (PhysAddr?)p))
        select (Outcome)new Mapped(new DmaAddr(dma), bounce),
        from segs in ListOf(from a in UInt64Gen from l in UInt64Gen select new DmaSegment(new DmaAddr(a), l))
        from bounces in Gen.OneOf(Gen.Constant<ValueList<PhysAddr>?>(null), ListOf(PhysGen).Select(l => (ValueList<PhysAddr>?)l))
        select (Outcome)new SgMapped(segs, bounces),
        IdGen.Select(d => (Outcome)new DomainAllocated(d)),
        UInt64Gen.Select(b => (Outcome)new Unmapped(b)),
        ListOf(from a in UInt64Gen from p in PhysGen from l in UInt64Gen select new AccessChunk(a, p, l)).Select(c => (Outcome)new Accessed(c)),
        from k in AnyOf<DmaErrorKind>() from m in TextGen select (Outcome)new Failed(k, m));

    public static Arbitrary<Outcome> Outcomes() => OutcomeGen.ToArbitrary();

    private static Gen<DeviceConfig> DeviceGen(int index, int[] iommus) =>
        from name in Gen.Frequency((1, Gen.Constant("")), (2, TextGen))
        from iommu in iommus.Length == 0 ? Gen.Constant<int?>(null)
            : Gen.Frequency((1, Gen.Constant<int?>(null)), (2, Gen.Elements(iommus).Select(i => (int?)i)))
        from mask in UInt64Gen
        from coherent in UInt64Gen
        from busLimit in Gen.OneOf(Gen.Constant(0UL), UInt64Gen)
        from maxSeg in Gen.OneOf(Gen.Constant(0x10000UL), UInt64Gen)
        from boundary in Gen.OneOf(Gen.Constant(ulong.MaxValue), UInt64Gen)
        from pci in Gen.Elements(true, false)
        from untrusted in Gen.Elements(true, false)
        from virtio in Gen.Elements<bool?>(null, true, false)
        select new DeviceConfig
        {
            Id = index * 7 - 3, Name = name, Iommu = iommu, DmaMask = mask, CoherentMask = coherent, BusDmaLimit = busLimit,
            MaxSegmentSize = maxSeg, SegmentBoundaryMask = boundary, IsPci = pci, Untrusted = untrusted, Virtio = virtio,
        };

    private static readonly string[] PresetNames = [.. Presets.Names, .. Presets.Variants];

    /// <summary>A preset, up to two device overrides using its IOMMUs, up to seven steps with an
    /// expected outcome on two of three.</summary>
    public static readonly Gen<Scenario> ScenarioGen =
        from preset in Gen.Elements(PresetNames)
        let iommus = Presets.Get(preset).Iommus.Select(i => i.Id).ToArray()
        from deviceCount in Gen.Choose(0, 2)
        from devices in Gen.CollectToList(Enumerable.Range(0, deviceCount), i => DeviceGen(i, iommus))
        from stepCount in Gen.Choose(0, 7)
        from steps in Gen.ListOf(
            from op in OpGen
            from expected in Gen.Frequency((1, Gen.Constant<Outcome?>(null)), (2, OutcomeGen.Select(o => (Outcome?)o)))
            select new ScenarioStep(op, expected), stepCount)
        select new Scenario(preset, devices.ToValueList(), steps.ToValueList());

    /// <summary>Fewer steps, fewer devices, steps without their expected outcome.</summary>
    public static IEnumerable<Scenario> ShrinkScenario(Scenario s)
    {
        for (int i = 0; i < s.Steps.Count; i++)
            yield return s with { Steps = s.Steps.Where((_, j) => j != i).ToValueList() };
        for (int i = 0; i < s.Devices.Count; i++)
            yield return s with { Devices = s.Devices.Where((_, j) => j != i).ToValueList() };
        for (int i = 0; i < s.Steps.Count; i++)
            if (s.Steps[i].Expected is not null)
                yield return s with { Steps = s.Steps.Select((step, j) => j == i ? step with { Expected = null } : step).ToValueList() };
    }

    public static Arbitrary<Scenario> Scenarios() => Arb.From(ScenarioGen, ShrinkScenario);
}
