using DmaVerify.Contracts;
using DmaVerify.Model;
using FsCheck;
using FsCheck.Xunit;
using Outcome = DmaVerify.Contracts.Outcome;

namespace DmaVerify.Tests;

/// <summary>The scenario text form: printer, parser, round trips, errors and robustness.</summary>
[Properties(Arbitrary = [typeof(Arbitraries)])]
public class TextFormTests
{
    private const ulong Max = ulong.MaxValue;

    // ---------------------------------------------------------------- samples

    /// <summary>At least one op of every kind, with edge numbers and every kind of address ref.</summary>
    public static IEnumerable<Op> SampleOps() =>
    [
        new AllocDomain(0, DomainType.Unmanaged),
        new AllocDomain(int.MaxValue, DomainType.Blocked),
        new Attach(1, 2),
        new Attach(0, -1),
        new SetDomainType(1, DomainType.Identity),
        new SetDomainType(1, DomainType.Dma),
        new SetDomainType(1, DomainType.DmaFq),
        new SetMask(1, 0xFFFF_FFFF, 0xFF_FFFF),
        new SetMask(0, Max, 0),
        new Map(1, new PhysAddr(0x123_4000), 0x2000, DmaDirection.ToDevice),
        new Map(0, new PhysAddr(0), 0, DmaDirection.FromDevice, DmaAttrs.SkipCpuSync),
        new Map(int.MinValue, new PhysAddr(Max), Max, DmaDirection.Bidirectional, DmaAttrs.SkipCpuSync | DmaAttrs.Privileged),
        new Map(2, new PhysAddr(0x7C00_0000), 1, DmaDirection.None, DmaAttrs.Privileged),
        new Unmap(1, new LiveRef(0), 0x2000, DmaDirection.ToDevice),
        new Unmap(1, new LiveRef(2, 0x10), 0x10, DmaDirection.FromDevice),
        new Unmap(1, new LiveRef(int.MaxValue, Max), Max, DmaDirection.None),
        new Unmap(1, new RawRef(0xFFFF_F000), 0x1000, DmaDirection.Bidirectional),
        new Unmap(1, new RawRef(0), 0, DmaDirection.Bidirectional),
        new Unmap(1, new RawRef(Max), 0, DmaDirection.Bidirectional),
        new MapSg(1, ValueList.Of(new SgEntry(new PhysAddr(0x1000), 0x2000), new SgEntry(new PhysAddr(0x5000), 0x1000)), DmaDirection.FromDevice),
        new MapSg(0, ValueList.Of(new SgEntry(new PhysAddr(Max), Max)), DmaDirection.ToDevice),
        new MapSg(0, ValueList<SgEntry>.Empty, DmaDirection.ToDevice),
        new UnmapSg(1, new LiveRef(1), 2, DmaDirection.FromDevice),
        new UnmapSg(1, new RawRef(0x1000), 0, DmaDirection.None),
        new UnmapSg(1, new LiveRef(-3, 4), -1, DmaDirection.None),
        new AllocCoherent(1, new PhysAddr(0x200_0000), 0x4000),
        new FreeCoherent(1, new LiveRef(2), 0x4000),
        new FreeCoherent(1, new RawRef(Max), Max),
        new MapResource(0, new PhysAddr(0xC000_0000), 0x1000, DmaDirection.Bidirectional),
        new UnmapResource(0, new RawRef(0xC000_0000), 0x1000, DmaDirection.Bidirectional),
        new UnmapResource(0, new LiveRef(0, 1), 1, DmaDirection.ToDevice),
        new IommuMap(2, new Iova(0x10_0000), new PhysAddr(0x123_4000), 0x1000, Prot.Read | Prot.Write | Prot.Cache),
        new IommuMap(2, new Iova(0), new PhysAddr(0), 0, Prot.None),
        new IommuMap(2, new Iova(Max), new PhysAddr(Max), Max, Prot.Read),
        new IommuMap(2, new Iova(1), new PhysAddr(1), 1, Prot.Write | Prot.NoExec | Prot.Mmio | Prot.Priv),
        new IommuMap(2, new Iova(1), new PhysAddr(1), 1, Prot.Read | Prot.Write | Prot.Cache | Prot.NoExec | Prot.Mmio | Prot.Priv),
        new IommuUnmap(2, new Iova(0x10_0000), 0x1000),
        new IommuUnmap(2, new Iova(Max), Max),
        new DeviceAccess(1, new LiveRef(0, 0x10), 4, true),
        new DeviceAccess(1, new LiveRef(0), 4, false),
        new DeviceAccess(1, new RawRef(0xFEE0_0000), 0, true),
        new SetupMsi(1, new PhysAddr(0xFEE0_0000)),
        new SetupMsi(1, new PhysAddr(Max)),
        new Flush(2),
        new Flush(0),
        new Tick(10),
        new Tick(0),
        new Tick(Max),
    ];

    /// <summary>At least one outcome of every kind.</summary>
    public static IEnumerable<Outcome> SampleOutcomes() =>
    [
        Done.Instance,
        new Mapped(new DmaAddr(0xFFFF_F000)),
        new Mapped(new DmaAddr(0)),
        new Mapped(new DmaAddr(Max), new PhysAddr(0x7C00_0000)),
        new Mapped(new DmaAddr(0x7C00_0000), new PhysAddr(0)),
        new SgMapped(ValueList.Of(new DmaSegment(new DmaAddr(0xFFFF_E000), 0x3000))),
        new SgMapped(ValueList.Of(new DmaSegment(new DmaAddr(0x1000), 0x2000), new DmaSegment(new DmaAddr(Max), Max)),
            ValueList.Of(new PhysAddr(0x7C00_0000), new PhysAddr(0x7C00_1000))),
        new SgMapped(ValueList<DmaSegment>.Empty),
        new SgMapped(ValueList<DmaSegment>.Empty, ValueList<PhysAddr>.Empty),
        new SgMapped(ValueList.Of(new DmaSegment(new DmaAddr(0), 0)), ValueList<PhysAddr>.Empty),
        new DomainAllocated(3),
        new DomainAllocated(-1),
        new DomainAllocated(int.MinValue),
        new Unmapped(0x20_0000),
        new Unmapped(0),
        new Unmapped(Max),
        new Accessed(ValueList.Of(new AccessChunk(0xFFFF_F010, new PhysAddr(0x123_4010), 4))),
        new Accessed(ValueList.Of(new AccessChunk(0, new PhysAddr(0), 0), new AccessChunk(Max, new PhysAddr(Max), Max))),
        new Accessed(ValueList<AccessChunk>.Empty),
        new Failed(DmaErrorKind.OutOfIova, "no IOVA space below 0xFFFFFFFF"),
        new Failed(DmaErrorKind.DoubleUnmap, ""),
        new Failed(DmaErrorKind.Fault, "quote \" backslash \\ hash # arrow -> equals = tab \t newline \n cr \r"),
        new Failed(DmaErrorKind.PermissionFault, "unicode é 漢字 😀 nul \0 bell \a del \u007F nel \u0085 ls \u2028 bom \uFEFF"),
        new Failed(DmaErrorKind.WrongSize, "lone surrogates \uD800 and \uDC00, reversed pair \uDC00\uD800"),
        new Failed(DmaErrorKind.InvalidArgument, " leading and trailing blanks "),
        new Failed(DmaErrorKind.Busy, "\\u0041 is not an escape here"),
        .. Enum.GetValues<DmaErrorKind>().Select(k => new Failed(k, $"message for {k}")),
    ];

    public static TheoryData<int> OpIndexes() => Indexes(SampleOps().Count());
    public static TheoryData<int> OutcomeIndexes() => Indexes(SampleOutcomes().Count());

    private static TheoryData<int> Indexes(int count)
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < count; i++) data.Add(i);
        return data;
    }

    private static Scenario OneStep(Op op, Outcome? expected = null) =>
        new("x86-vtd", ValueList<DeviceConfig>.Empty, ValueList.Of(new ScenarioStep(op, expected)));

    private static Scenario MustParse(string text)
    {
        var result = ScenarioParser.Parse(text, "test.scn");
        Assert.True(result.IsSuccess, result.ErrorText);
        return result.Scenario!;
    }

    private static void AssertRoundTrip(Scenario scenario)
    {
        string text = ScenarioPrinter.Print(scenario);
        var result = ScenarioParser.Parse(text, "roundtrip.scn");
        Assert.True(result.IsSuccess, $"{result.ErrorText}\n--- text ---\n{text}");
        Assert.Equal(scenario, result.Scenario);
        Assert.Equal(text, ScenarioPrinter.Print(result.Scenario!));
    }

    // ---------------------------------------------------------------- coverage of the vocabulary

    [Fact]
    public void EveryOpTypeHasAVerbAndASample()
    {
        var opTypes = typeof(Op).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(Op)) && !t.IsAbstract).ToHashSet();
        var sampled = SampleOps().Select(o => o.GetType()).ToHashSet();
        Assert.Empty(opTypes.Except(sampled).Select(t => t.Name));
        var verbs = SampleOps().Select(o => ScenarioPrinter.FormatOp(o).Split(' ')[0]).ToHashSet();
        Assert.Equal(TextNames.Verbs.OrderBy(v => v), verbs.OrderBy(v => v));
    }

    [Fact]
    public void EveryOutcomeTypeHasAWordAndASample()
    {
        var types = typeof(Outcome).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(Outcome)) && !t.IsAbstract).ToHashSet();
        var sampled = SampleOutcomes().Select(o => o.GetType()).ToHashSet();
        Assert.Empty(types.Except(sampled).Select(t => t.Name));
        var words = SampleOutcomes().Select(o => ScenarioPrinter.FormatOutcome(o).Split(' ')[0]).ToHashSet();
        Assert.Equal(TextNames.OutcomeWords.OrderBy(v => v), words.OrderBy(v => v));
    }

    [Fact]
    public void EveryEnumValueHasAName()
    {
        foreach (var v in Enum.GetValues<DmaDirection>()) Assert.True(TextNames.Directions.TryGetName(v, out _), v.ToString());
        foreach (var v in Enum.GetValues<DomainType>()) Assert.True(TextNames.DomainTypes.TryGetName(v, out _), v.ToString());
        foreach (var v in Enum.GetValues<DmaErrorKind>()) Assert.True(TextNames.ErrorKinds.TryGetName(v, out _), v.ToString());
        Assert.Equal("invalid-dma-address", TextNames.ErrorKinds.Format(DmaErrorKind.InvalidDmaAddress));
        Assert.Equal("out-of-iova", TextNames.ErrorKinds.Format(DmaErrorKind.OutOfIova));
        // Every combination of the defined flag bits has a spelling.
        for (int bits = 0; bits < 64; bits++) Assert.NotNull(TextNames.FormatFlags(TextNames.ProtFlags, (Prot)bits));
        for (int bits = 0; bits < 4; bits++) Assert.NotNull(TextNames.FormatFlags(TextNames.AttrFlags, (DmaAttrs)bits));
    }

    // ---------------------------------------------------------------- round trips

    [Theory]
    [MemberData(nameof(OpIndexes))]
    public void EveryOpRoundTrips(int index)
    {
        var op = SampleOps().ElementAt(index);
        AssertRoundTrip(OneStep(op));
        AssertRoundTrip(OneStep(op, Done.Instance));
    }

    [Theory]
    [MemberData(nameof(OutcomeIndexes))]
    public void EveryOutcomeRoundTrips(int index)
    {
        var outcome = SampleOutcomes().ElementAt(index);
        AssertRoundTrip(OneStep(new Map(1, new PhysAddr(0x1000), 0x1000, DmaDirection.ToDevice), outcome));
        AssertRoundTrip(OneStep(new Tick(1), outcome));
    }

    [Fact]
    public void EveryProtAndAttrCombinationRoundTrips()
    {
        for (int bits = 0; bits < 64; bits++)
            AssertRoundTrip(OneStep(new IommuMap(1, new Iova(0x1000), new PhysAddr(0x2000), 0x1000, (Prot)bits)));
        for (int bits = 0; bits < 4; bits++)
            AssertRoundTrip(OneStep(new Map(1, new PhysAddr(0x1000), 0x1000, DmaDirection.ToDevice, (DmaAttrs)bits)));
    }

    [Fact]
    public void EveryPresetsDevicesRoundTripAsOverrides()
    {
        foreach (var name in Presets.Names.Concat(Presets.Variants))
        {
            var platform = Presets.Get(name);
            AssertRoundTrip(new Scenario(name, platform.Devices.ToValueList(), ValueList<ScenarioStep>.Empty));
        }
    }

    [Fact]
    public void DeviceOverridesRoundTrip()
    {
        DeviceConfig[] devices =
        [
            new() { Id = 0 },
            new() { Id = 1, Name = "sata", Iommu = 0, DmaMask = 0xFFFF_FFFF, CoherentMask = 0xFF_FFFF, IsPci = true, SegmentBoundaryMask = 0xFFFF_FFFF },
            new()
            {
                Id = 7, Name = "odd name \"with\" quotes # and = signs", Iommu = null, DmaMask = Max, CoherentMask = Max,
                BusDmaLimit = 0xF_FFFF_FFFF, MaxSegmentSize = Max, SegmentBoundaryMask = 0, IsPci = true, Untrusted = true, Virtio = true,
            },
            new() { Id = 8, Name = "virtio-net", Iommu = 0, Virtio = false, MaxSegmentSize = 0, BusDmaLimit = Max },
            new() { Id = -5, Name = "none", DmaMask = 0, CoherentMask = 0 },
            new() { Id = int.MaxValue, Name = "x@y/z:1.2_3+4-5" },
        ];
        AssertRoundTrip(new Scenario("x86-vtd", devices.ToValueList(),
            ValueList.Of(new ScenarioStep(new Map(7, new PhysAddr(0x1000), 0x10, DmaDirection.ToDevice), new Mapped(new DmaAddr(0x1000))))));
    }

    [Fact]
    public void EmptyScenarioRoundTrips()
    {
        AssertRoundTrip(new Scenario("direct", ValueList<DeviceConfig>.Empty, ValueList<ScenarioStep>.Empty));
        AssertRoundTrip(new Scenario("virtio@arm-smmu", []));
    }

    [Fact]
    public void WholeSampleScenarioRoundTrips()
    {
        var outcomes = SampleOutcomes().ToArray();
        var steps = SampleOps().Select((op, i) => new ScenarioStep(op, i % 3 == 0 ? null : outcomes[i % outcomes.Length]));
        AssertRoundTrip(new Scenario("arm-smmu-64k", ValueList.Of(new DeviceConfig { Id = 9, Iommu = 0, Untrusted = true }), steps.ToValueList()));
    }

    /// <summary>Any scenario (every op and outcome kind, fields anywhere in their type's range,
    /// device overrides, steps with and without an expected outcome) round-trips exactly.</summary>
    [Property(MaxTest = 2000)]
    public void AnyScenarioRoundTrips(Scenario scenario) => AssertRoundTrip(scenario);

    /// <summary>Any string, as an error message and as a device name, comes back exactly.</summary>
    [Property(MaxTest = 1000)]
    public void AnyStringSurvivesQuoting(NonNull<string> text, DmaErrorKind kind)
    {
        AssertRoundTrip(OneStep(new Tick(1), new Failed(kind, text.Get)));
        AssertRoundTrip(new Scenario("x86-vtd", ValueList.Of(new DeviceConfig { Id = 9, Name = text.Get }), ValueList<ScenarioStep>.Empty));
    }

    // ---------------------------------------------------------------- the canonical text

    private const string Canonical =
        """
        preset x86-vtd
        device 1 name=sata iommu=0 mask=0xFFFFFFFF coherent=0xFFFFFFFF boundary=0xFFFFFFFF pci
        device 5 name="usb stick" iommu=none mask=0xFFFFFF coherent=0xFFFFFF bus-limit=0xFFFFFFFF max-seg=0x1000 untrusted virtio=bypass
        alloc-domain iommu=0 type=unmanaged # -> domain 2
        attach dev=3 domain=2 # -> ok
        set-domain-type dev=1 type=dma-fq # -> ok
        set-mask dev=1 mask=0xFFFFFFFF coherent=0xFFFFFFFF
        map dev=1 phys=0x1234000 len=0x2000 dir=to_device # -> mapped 0xFFFFE000
        map dev=1 phys=0x1234000 len=0x10 dir=from_device attrs=skip-cpu-sync|privileged # -> mapped 0x7C000000 bounce=0x7C000000
        unmap dev=1 handle=#0 len=0x2000 dir=to_device # -> ok
        unmap dev=1 handle=0xFFFFE000 len=0x2000 dir=to_device # -> failed double-unmap "no live mapping at 0xFFFFE000"
        map-sg dev=1 segs=0x1000+0x2000,0x5000+0x1000 dir=bidirectional # -> sg-mapped 0xFFFFC000+0x3000 bounces=none
        map-sg dev=2 segs=0x1000+0x10 dir=to_device # -> sg-mapped 0xFFFFF000+0x10 bounces=0x7C000000
        map-sg dev=1 segs=none dir=none # -> failed invalid-argument
        unmap-sg dev=1 handle=#1 nents=2 dir=bidirectional # -> ok
        alloc-coherent dev=1 phys=0x2000000 size=0x4000 # -> mapped 0xFFFF8000
        free-coherent dev=1 handle=#2 size=0x4000
        map-resource dev=0 phys=0xC0000000 len=0x1000 dir=bidirectional # -> mapped 0xFFFFF000
        unmap-resource dev=0 handle=#0+0x0 len=0x1000 dir=bidirectional
        iommu-map domain=2 iova=0x100000 phys=0x1234000 size=0x1000 prot=rw|cache # -> ok
        iommu-map domain=2 iova=0x200000 phys=0x1234000 size=0x200000 prot=none # -> failed unaligned "phys not aligned"
        iommu-unmap domain=2 iova=0x100000 size=0x1000 # -> unmapped 0x1000
        device-access dev=1 addr=#0+0x10 len=0x4 write # -> accessed 0xFFFFE010->0x1234010+0x4
        device-access dev=1 addr=0xFFFFE000 len=0x2000 read # -> accessed 0xFFFFE000->0x1234000+0x1000,0xFFFFF000->0x5000+0x1000
        device-access dev=1 addr=0xDEAD0000 len=0x0 read # -> accessed none
        device-access dev=3 addr=0x0 len=0x1 read # -> failed fault "unmapped"
        setup-msi dev=1 doorbell=0xFEE00000 # -> mapped 0xFEE00000
        flush domain=2
        tick ms=10
        tick ms=18446744073709551615
        map dev=1 phys=0xFFFFFFFFFFFFFFFF len=0x0 dir=none # -> mapped 0xFFFFFFFFFFFFFFFF

        """;

    [Fact]
    public void CanonicalTextRoundTrips()
    {
        // The canonical text is what the printer writes; "#0+0x0" is the one non-canonical
        // spelling above, so compare against the text with it replaced.
        string canonical = Canonical.Replace("handle=#0+0x0", "handle=#0").ReplaceLineEndings("\n");
        var scenario = MustParse(canonical);
        Assert.Equal(canonical, ScenarioPrinter.Print(scenario));
        Assert.Equal(scenario, MustParse(Canonical));
        Assert.Equal(28, scenario.Steps.Count);
        Assert.Equal(2, scenario.Devices.Count);
    }

    [Fact]
    public void CanonicalTextMeansWhatItSays()
    {
        var s = MustParse(Canonical.ReplaceLineEndings("\n"));
        Assert.Equal("x86-vtd", s.Preset);
        Assert.Equal(new DeviceConfig { Id = 1, Name = "sata", Iommu = 0, DmaMask = 0xFFFF_FFFF, CoherentMask = 0xFFFF_FFFF, SegmentBoundaryMask = 0xFFFF_FFFF, IsPci = true }, s.Devices[0]);
        Assert.Equal(new DeviceConfig
        {
            Id = 5, Name = "usb stick", Iommu = null, DmaMask = 0xFF_FFFF, CoherentMask = 0xFF_FFFF, BusDmaLimit = 0xFFFF_FFFF,
            MaxSegmentSize = 0x1000, Untrusted = true, Virtio = false,
        }, s.Devices[1]);
        Assert.Equal(new ScenarioStep(new AllocDomain(0, DomainType.Unmanaged), new DomainAllocated(2)), s.Steps[0]);
        Assert.Equal(new ScenarioStep(new Map(1, new PhysAddr(0x123_4000), 0x2000, DmaDirection.ToDevice), new Mapped(new DmaAddr(0xFFFF_E000))), s.Steps[4]);
        Assert.Equal(new Mapped(new DmaAddr(0x7C00_0000), new PhysAddr(0x7C00_0000)), s.Steps[5].Expected);
        Assert.Equal(new DmaAttrs?(DmaAttrs.SkipCpuSync | DmaAttrs.Privileged), (s.Steps[5].Op as Map)?.Attrs);
        Assert.Equal(new Failed(DmaErrorKind.DoubleUnmap, "no live mapping at 0xFFFFE000"), s.Steps[7].Expected);
        Assert.Equal(new SgMapped(ValueList.Of(new DmaSegment(new DmaAddr(0xFFFF_C000), 0x3000)), ValueList<PhysAddr>.Empty), s.Steps[8].Expected);
        Assert.Equal(ValueList.Of(new SgEntry(new PhysAddr(0x1000), 0x2000), new SgEntry(new PhysAddr(0x5000), 0x1000)), (s.Steps[8].Op as MapSg)?.Segments);
        Assert.Equal(new Failed(DmaErrorKind.InvalidArgument, ""), s.Steps[10].Expected);
        Assert.Equal(new UnmapResource(0, new LiveRef(0), 0x1000, DmaDirection.Bidirectional), s.Steps[15].Op);
        Assert.Equal(Prot.Read | Prot.Write | Prot.Cache, (s.Steps[16].Op as IommuMap)?.Prot);
        Assert.Equal(new DeviceAccess(1, new LiveRef(0, 0x10), 4, true), s.Steps[19].Op);
        Assert.Null(s.Steps[24].Expected);
        Assert.Equal(new Tick(ulong.MaxValue), s.Steps[26].Op);
    }

    [Fact]
    public void LenientInputPrintsCanonically()
    {
        string text =
            "\uFEFF# a regression file\r\n" +
            "\r\n" +
            "   preset    x86-vtd   # the platform\r\n" +
            "device 1 pci mask=4294967295 iommu=0x0 name=\"sata\" coherent=0xffff_ffff\r\n" +
            "\tmap dir=to_device len=8192 phys=0x123_4000 dev=0x1 attrs=none   #->   mapped   0xffffe000\r\n" +
            "# -> ok   (a result on a line of its own is just a comment)\r\n" +
            "iommu-map prot=w|r|noexec size=4096 phys=0x1234000 iova=0x100000 domain=2 # a plain comment\r\n" +
            "device-access read addr=#0+16 len=4 dev=1 # -> failed permission-fault \"write to read-only\" # trailing note\r\n" +
            "unmap dev=1 handle=#0+0 len=0x2000 dir=to_device # -> failed wrong-size oops\r\n" +
            "tick ms=0x0A";
        string expected =
            "preset x86-vtd\n" +
            "device 1 name=sata iommu=0 mask=0xFFFFFFFF coherent=0xFFFFFFFF pci\n" +
            "map dev=1 phys=0x1234000 len=0x2000 dir=to_device # -> mapped 0xFFFFE000\n" +
            "iommu-map domain=2 iova=0x100000 phys=0x1234000 size=0x1000 prot=rw|noexec\n" +
            "device-access dev=1 addr=#0+0x10 len=0x4 read # -> failed permission-fault \"write to read-only\"\n" +
            "unmap dev=1 handle=#0 len=0x2000 dir=to_device # -> failed wrong-size \"oops\"\n" +
            "tick ms=10\n";
        Assert.Equal(expected, ScenarioPrinter.Print(MustParse(text)));
    }

    [Fact]
    public void SingleLineHelpersPrintTheDocumentedForms()
    {
        Assert.Equal("map dev=1 phys=0x1234000 len=0x2000 dir=to_device",
            ScenarioPrinter.FormatOp(new Map(1, new PhysAddr(0x123_4000), 0x2000, DmaDirection.ToDevice)));
        Assert.Equal("unmap-sg dev=1 handle=#2+0x10 nents=3 dir=from_device",
            ScenarioPrinter.FormatOp(new UnmapSg(1, new LiveRef(2, 0x10), 3, DmaDirection.FromDevice)));
        Assert.Equal("map-sg dev=1 segs=0x1000+0x2000,0x5000+0x1000 dir=to_device",
            ScenarioPrinter.FormatOp(new MapSg(1, ValueList.Of(new SgEntry(new PhysAddr(0x1000), 0x2000), new SgEntry(new PhysAddr(0x5000), 0x1000)), DmaDirection.ToDevice)));
        Assert.Equal("iommu-map domain=2 iova=0x100000 phys=0x1234000 size=0x1000 prot=r|priv",
            ScenarioPrinter.FormatOp(new IommuMap(2, new Iova(0x10_0000), new PhysAddr(0x123_4000), 0x1000, Prot.Read | Prot.Priv)));
        Assert.Equal("mapped 0xFFFFF000", ScenarioPrinter.FormatOutcome(new Mapped(new DmaAddr(0xFFFF_F000))));
        Assert.Equal("mapped 0x7C000000 bounce=0x7C000000", ScenarioPrinter.FormatOutcome(new Mapped(new DmaAddr(0x7C00_0000), new PhysAddr(0x7C00_0000))));
        Assert.Equal("failed out-of-iova \"no \\\"space\\\"\\n\"", ScenarioPrinter.FormatOutcome(new Failed(DmaErrorKind.OutOfIova, "no \"space\"\n")));
        Assert.Equal("ok", ScenarioPrinter.FormatOutcome(Done.Instance));
        Assert.Equal("#2", ScenarioPrinter.FormatRef(new LiveRef(2)));
        Assert.Equal("0x1234", ScenarioPrinter.FormatRef(new RawRef(0x1234)));
        Assert.Equal("map dev=1 phys=0x1000 len=0x10 dir=none # -> domain 4",
            ScenarioPrinter.FormatStep(new ScenarioStep(new Map(1, new PhysAddr(0x1000), 0x10, DmaDirection.None), new DomainAllocated(4))));
    }

    [Fact]
    public void UndefinedEnumValuesPrintVisiblyAndAreRefused()
    {
        string line = ScenarioPrinter.FormatOp(new Map(1, new PhysAddr(0), 1, (DmaDirection)42));
        Assert.Equal("map dev=1 phys=0x0 len=0x1 dir=42", line);
        var result = ScenarioParser.Parse("preset direct\n" + line);
        Assert.False(result.IsSuccess);
        Assert.Equal((2, 32), (result.Errors[0].Line, result.Errors[0].Column));
        Assert.Equal("iommu-map domain=1 iova=0x0 phys=0x0 size=0x1 prot=64",
            ScenarioPrinter.FormatOp(new IommuMap(1, new Iova(0), new PhysAddr(0), 1, (Prot)64)));
    }

    // ---------------------------------------------------------------- errors

    public static TheoryData<string, int, int, string> MalformedCases() => new()
    {
        // text, line, column, a fragment of the message
        { "preset x86-vtd\nmapp dev=1", 2, 1, "unknown verb \"mapp\"" },
        { "preset x86-vtd\nmap dev=1 phys=0x1000 len=0x1000 dir=to_device colour=red", 2, 48, "unknown key \"colour\" for 'map'" },
        { "preset x86-vtd\nmap dev=1 phys=0x1000 dir=to_device", 2, 1, "missing len= for 'map'" },
        { "preset x86-vtd\nflush domain=1 domain=2", 2, 16, "duplicate key domain=" },
        { "preset x86-vtd\nmap dev=1 phys=0x10G0 len=0x1000 dir=to_device", 2, 16, "bad number \"0x10G0\"" },
        { "preset x86-vtd\nmap dev=1 phys=0x1000 len=12a dir=to_device", 2, 27, "bad number \"12a\"" },
        { "preset x86-vtd\ntick ms=0x", 2, 9, "bad number" },
        { "preset x86-vtd\ntick ms=", 2, 9, "expected a number" },
        { "preset x86-vtd\ntick ms=0x1_0000_0000_0000_0000", 2, 9, "larger than 2^64-1" },
        { "preset x86-vtd\ntick ms=18446744073709551616", 2, 9, "larger than 2^64-1" },
        { "preset x86-vtd\nflush domain=2147483648", 2, 14, "out of range" },
        { "preset x86-vtd\nflush domain=-2147483649", 2, 14, "out of range" },
        { "preset x86-vtd\nmap dev=1 phys=0x1000 len=0x1000 dir=sideways", 2, 38, "dir: bad value \"sideways\"; expected to_device, from_device, bidirectional, none" },
        { "preset x86-vtd\nset-domain-type dev=1 type=DMA", 2, 28, "type: bad value \"DMA\"" },
        { "preset x86-vtd\nunmap dev=1 handle=#x len=0x1000 dir=to_device", 2, 20, "bad handle \"#x\"" },
        { "preset x86-vtd\nunmap dev=1 handle=#1+ len=0x1000 dir=to_device", 2, 23, "bad handle \"#1+\"" },
        { "preset x86-vtd\nunmap dev=1 handle=#1+zz len=0x1000 dir=to_device", 2, 23, "bad handle" },
        { "preset x86-vtd\nunmap dev=1 handle=# len=0x1000 dir=to_device", 2, 20, "bad handle" },
        { "map dev=1 phys=0x1000 len=0x1000 dir=to_device", 1, 1, "expected the header 'preset NAME'" },
        { "# only a comment\n\n", 1, 1, "empty scenario" },
        { "", 1, 1, "empty scenario" },
        { "preset x86-vdt", 1, 8, "unknown preset 'x86-vdt'" },
        { "preset", 1, 7, "expected a preset name" },
        { "preset x86-vtd extra", 1, 16, "unexpected \"extra\"" },
        { "preset x86-vtd\npreset amd-vi", 2, 1, "duplicate header: 'preset' was already given on line 1" },
        { "device 1\npreset amd-vi", 1, 1, "expected the header 'preset NAME' before \"device\"" },
        { "preset x86-vtd\nmap-sg dev=1 segs=0x1000+0x2000,0x5000 dir=to_device", 2, 33, "malformed sg list entry \"0x5000\"" },
        { "preset x86-vtd\nmap-sg dev=1 segs=0x1000+0x2000,,0x5000+0x10 dir=to_device", 2, 33, "malformed sg list entry" },
        { "preset x86-vtd\nmap-sg dev=1 segs=0x1000+0x2000, dir=to_device", 2, 33, "malformed sg list entry" },
        { "preset x86-vtd\nmap-sg dev=1 segs=0x1000+0xQ dir=to_device", 2, 26, "bad number \"0xQ\"" },
        { "preset x86-vtd\nmap-sg dev=1 segs= dir=to_device", 2, 19, "malformed sg list entry" },
        { "preset x86-vtd\niommu-map domain=1 iova=0x0 phys=0x0 size=0x1000 prot=rw|exec", 2, 58, "unknown flag \"exec\"" },
        { "preset x86-vtd\niommu-map domain=1 iova=0x0 phys=0x0 size=0x1000 prot=rw|r", 2, 58, "given twice" },
        { "preset x86-vtd\niommu-map domain=1 iova=0x0 phys=0x0 size=0x1000 prot=rw||cache", 2, 58, "empty flag" },
        { "preset x86-vtd\nmap dev=1 phys=0x1000 len=0x1000 dir=to_device attrs=sync", 2, 54, "unknown flag \"sync\"" },
        { "preset x86-vtd\ndevice-access dev=1 addr=#0 len=0x4", 2, 1, "missing 'write' or 'read'" },
        { "preset x86-vtd\ndevice-access dev=1 addr=#0 len=0x4 read write", 2, 42, "exclude each other" },
        { "preset x86-vtd\ndevice-access dev=1 addr=#0 len=0x4 write write", 2, 43, "duplicate flag 'write'" },
        { "preset x86-vtd\nflush domain", 2, 7, "expected domain=VALUE" },
        { "preset x86-vtd\nflush 2", 2, 7, "unexpected \"2\"; 'flush' takes domain=" },
        { "preset x86-vtd\ndevice 9 name=\"unterminated", 2, 15, "unterminated string" },
        { "preset x86-vtd\ndevice 9 name=\"bad \\q escape\"", 2, 20, "unknown escape '\\q'" },
        { "preset x86-vtd\ndevice 9 name=\"x\"y", 2, 18, "expected a blank after the closing" },
        { "preset x86-vtd\ndevice 9 na\"me=x", 2, 12, "unexpected '\"'" },
        { "preset x86-vtd\n=5", 2, 1, "expected a key before '='" },
        { "preset x86-vtd\ndevice 9 iommu=4", 2, 16, "preset 'x86-vtd' has no IOMMU 4" },
        { "preset x86-vtd\ndevice 9 virtio=maybe", 2, 17, "virtio: bad value \"maybe\"" },
        { "preset x86-vtd\ndevice 9 pci=yes", 2, 10, "unknown key \"pci\" for 'device'" },
        { "preset x86-vtd\ndevice x", 2, 8, "device id: bad number \"x\"" },
        { "preset x86-vtd\ndevice", 2, 7, "expected a device id" },
        { "preset x86-vtd\ndevice 1\ndevice 1 name=again", 3, 8, "device 1 is already described on line 2" },
        { "preset x86-vtd\ntick ms=1\ndevice 1", 3, 1, "device lines must come before the first op (line 2)" },
        { "preset x86-vtd\ntick ms=1 # -> mapped", 2, 16, "'mapped' needs a DMA address" },
        { "preset x86-vtd\ntick ms=1 # -> frobbed 0x1", 2, 16, "unknown outcome \"frobbed\"" },
        { "preset x86-vtd\ntick ms=1 # ->", 2, 13, "expected an outcome" },
        { "preset x86-vtd\ntick ms=1 # -> ok 0x5", 2, 19, "unexpected \"0x5\" after 'ok'" },
        { "preset x86-vtd\ntick ms=1 # -> mapped 0x1000 bounce=0xZ", 2, 37, "bounce: bad number" },
        { "preset x86-vtd\ntick ms=1 # -> failed out-of-space", 2, 23, "error kind: bad value \"out-of-space\"" },
        { "preset x86-vtd\ntick ms=1 # -> sg-mapped 0x1000+0x10 bounces=0x1,,0x2", 2, 50, "bounces: expected a number" },
        { "preset x86-vtd\ntick ms=1 # -> accessed 0x1000+0x10", 2, 25, "malformed chunk \"0x1000+0x10\"" },
        { "preset x86-vtd\ntick ms=1 # -> accessed 0x1000->0x2000+0x10,0x3000->0x4000", 2, 45, "malformed chunk \"0x3000->0x4000\"" },
        { "preset x86-vtd\ntick ms=1 # -> domain -0x80000001", 2, 23, "out of range" },
        { "preset x86-vtd\nmap dev=1 phys=\"0x1000\" len=0x1000 dir=to_device", 2, 16, "phys: expected a number, not a quoted string" },
        { "preset x86-vtd\n\"map\" dev=1", 2, 1, "expected a verb, not a quoted string" },
        { "preset x86-vtd\ndev=1 map", 2, 1, "expected a verb before \"dev=\"" },
    };

    [Theory]
    [MemberData(nameof(MalformedCases))]
    public void MalformedInputGivesAnErrorWithLineAndColumn(string text, int line, int column, string fragment)
    {
        var result = ScenarioParser.Parse(text, "bad.scn");
        Assert.False(result.IsSuccess);
        Assert.Null(result.Scenario);
        var error = result.Errors[0];
        Assert.Equal("bad.scn", error.File);
        Assert.True((line, column) == (error.Line, error.Column), $"expected {line}:{column}, got {error}");
        Assert.Contains(fragment, error.Message);
        Assert.StartsWith($"bad.scn:{line}:{column}: ", error.ToString());
    }

    [Fact]
    public void EveryBadLineIsReported()
    {
        string text = "preset x86-vtd\nmap dev=x phys=0x1000 len=0x1000 dir=up\ntick ms=1\nflush\nbogus";
        var errors = ScenarioParser.Parse(text, "f").Errors;
        Assert.Equal(
            [(2, 9, "dev: bad number \"x\"; expected decimal digits or hex 0x…"), (2, 38, "dir: bad value \"up\"; expected to_device, from_device, bidirectional, none"),
             (4, 1, "missing domain= for 'flush'"), (5, 1, "unknown verb \"bogus\"; expected preset, device or one of " + string.Join(", ", TextNames.Verbs))],
            errors.Select(e => (e.Line, e.Column, e.Message)));
    }

    [Fact]
    public void ABadHeaderIsReportedOnce()
    {
        var errors = ScenarioParser.Parse("preset x86-vdt\ndevice 1 iommu=0\ntick ms=1\n", "f").Errors;
        Assert.Equal(new ParseError("f", 1, 8, errors[0].Message), errors.Single());
        Assert.StartsWith("unknown preset 'x86-vdt'", errors[0].Message);

        errors = ScenarioParser.Parse("preset nope\n\npreset amd-vi\n", "f").Errors;
        Assert.Equal([(1, 8), (3, 1)], errors.Select(e => (e.Line, e.Column)));
        Assert.Equal("duplicate header: 'preset' was already given on line 1", errors[1].Message);
    }

    [Fact]
    public void DeviceAfterABadOpLineIsStillOutOfPlace()
    {
        var errors = ScenarioParser.Parse("preset x86-vtd\ntick ms=x\ndevice 1\n", "f").Errors;
        Assert.Equal([(2, 9), (3, 1)], errors.Select(e => (e.Line, e.Column)));
    }

    [Fact]
    public void ErrorsStopAfterALimit()
    {
        string text = "preset x86-vtd\n" + string.Concat(Enumerable.Repeat("bogus\n", 500));
        var errors = ScenarioParser.Parse(text).Errors;
        Assert.Equal(ScenarioParser.MaxErrors + 1, errors.Count);
        Assert.Contains("too many errors", errors[^1].Message);
        Assert.Equal(ScenarioParser.DefaultFileName, errors[0].File);
    }

    [Fact]
    public void ParseFileReportsMissingAndUnreadableFilesAsErrors()
    {
        string dir = Path.Combine(Path.GetTempPath(), "dmaverify-text-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string missing = Path.Combine(dir, "nope.scn");
            var r1 = ScenarioParser.ParseFile(missing);
            Assert.False(r1.IsSuccess);
            Assert.Equal(new ParseError(missing, 0, 0, "no such file"), r1.Errors.Single());
            Assert.Equal($"{missing}: no such file", r1.Errors[0].ToString());

            Assert.False(ScenarioParser.ParseFile(Path.Combine(dir, "no-dir", "x.scn")).IsSuccess);
            Assert.False(ScenarioParser.ParseFile(dir).IsSuccess); // a directory
            Assert.False(ScenarioParser.ParseFile("").IsSuccess);
            Assert.False(ScenarioParser.ParseFile(null!).IsSuccess);
            Assert.False(ScenarioParser.ParseFile("bad\0name").IsSuccess);

            string good = Path.Combine(dir, "good.scn");
            File.WriteAllText(good, "preset amd-vi\nflush domain=0 # -> ok\n");
            var r2 = ScenarioParser.ParseFile(good);
            Assert.True(r2.IsSuccess, r2.ErrorText);
            Assert.Equal(new Scenario("amd-vi", ValueList<DeviceConfig>.Empty, ValueList.Of(new ScenarioStep(new Flush(0), Done.Instance))), r2.Scenario);

            string bad = Path.Combine(dir, "bad.scn");
            File.WriteAllText(bad, "preset amd-vi\n\nflush domain=zero\n");
            var r3 = ScenarioParser.ParseFile(bad);
            Assert.Equal($"{bad}:3:14: domain: bad number \"zero\"; expected decimal digits or hex 0x…", r3.Errors.Single().ToString());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // ---------------------------------------------------------------- robustness

    /// <summary>10^4 random mutations of valid text and 10^4 garbage strings, from fixed seeds:
    /// the parser never throws, every error has a position, and whatever parses prints to text
    /// that parses back to the same scenario.</summary>
    [Fact]
    public void ParserNeverThrowsOnMutatedOrGarbageInput()
    {
        var rng = new Random(0x5EED);
        string seed = Canonical.ReplaceLineEndings("\n") + string.Concat(
            SampleOps().Zip(SampleOutcomes(), (o, r) => ScenarioPrinter.FormatStep(new ScenarioStep(o, r)) + "\n"));
        Assert.True(ScenarioParser.Parse(seed).IsSuccess);
        string[] fragments =
        [
            " ", "\t", "\n", "\r\n", "#", "# -> ", "=", "\"", "\\", "\\u", "+", ",", "|", "->", "-", "0x", "0x_", "_",
            "#-", "#2147483648", "0xFFFFFFFFFFFFFFFFF", "99999999999999999999", "-2147483648", "none", "dev=", "segs=",
            "preset ", "device ", "map", "failed", "\0", "\uFEFF", "\uD800", "😀", "\u2028", "é", "handle=#", "prot=rw|",
        ];
        int parsed = 0;
        // Each mutant starts from the header (and device lines) plus a random run of op lines:
        // small enough to parse often, so the printer is exercised on what survives.
        string[] seedLines = seed.TrimEnd('\n').Split('\n');
        const int headerLines = 3;
        for (int n = 0; n < 10_000; n++)
        {
            int start = rng.Next(headerLines, seedLines.Length);
            int count = rng.Next(1, Math.Min(12, seedLines.Length - start) + 1);
            string source = string.Join('\n', seedLines.Take(rng.Next(1, headerLines + 1)).Concat(seedLines.Skip(start).Take(count)));
            string text = Mutate(source, rng, fragments);
            parsed += Check(text) ? 1 : 0;
        }
        for (int n = 0; n < 10_000; n++)
        {
            int length = rng.Next(0, 200);
            var chars = new char[length];
            for (int i = 0; i < length; i++)
            {
                chars[i] = rng.Next(4) switch
                {
                    0 => (char)rng.Next(0, 0x10000),
                    1 => (char)rng.Next(0, 0x80),
                    _ => Alphabet[rng.Next(Alphabet.Length)],
                };
            }
            Check(new string(chars));
            // Raw bytes decoded as UTF-8, as a file read from disk would be.
            var bytes = new byte[rng.Next(0, 200)];
            rng.NextBytes(bytes);
            Check(System.Text.Encoding.UTF8.GetString(bytes));
            Check("preset x86-vtd\n" + new string(chars));
        }
        Assert.True(parsed > 1000, $"only {parsed} mutants parsed; the mutator is too destructive to exercise the printer");

        static bool Check(string text)
        {
            ParseResult result;
            try
            {
                result = ScenarioParser.Parse(text, "fuzz.scn");
            }
            catch (Exception ex)
            {
                Assert.Fail($"parser threw {ex.GetType().Name}: {ex.Message}\n--- input ---\n{text}");
                return false;
            }
            if (!result.IsSuccess)
            {
                Assert.NotEmpty(result.Errors);
                Assert.All(result.Errors, e => Assert.True(e.Line >= 1 && e.Column >= 1 && e.File == "fuzz.scn" && e.Message.Length > 0, e.ToString()));
                return false;
            }
            string printed = ScenarioPrinter.Print(result.Scenario!);
            var again = ScenarioParser.Parse(printed);
            Assert.True(again.IsSuccess, $"{again.ErrorText}\n--- printed ---\n{printed}\n--- from ---\n{text}");
            Assert.Equal(result.Scenario, again.Scenario);
            Assert.Equal(printed, ScenarioPrinter.Print(again.Scenario!));
            return true;
        }
    }

    private const string Alphabet = "preset x86-vtd\nmap dev=1#0x+,|=\"\\ -> ";

    private static string Mutate(string text, Random rng, string[] fragments)
    {
        var lines = text.Split('\n').ToList();
        int edits = rng.Next(1, 4);
        for (int e = 0; e < edits; e++)
        {
            int li = rng.Next(lines.Count);
            string line = lines[li];
            int at = line.Length == 0 ? 0 : rng.Next(line.Length + 1);
            switch (rng.Next(7))
            {
                case 0: // delete a span
                    if (line.Length > 0) lines[li] = line.Remove(Math.Min(at, line.Length - 1), Math.Min(rng.Next(1, 6), line.Length - Math.Min(at, line.Length - 1)));
                    break;
                case 1: // insert a fragment
                    lines[li] = line.Insert(at, fragments[rng.Next(fragments.Length)]);
                    break;
                case 2: // replace one char with a random one
                    if (line.Length > 0) lines[li] = line.Remove(Math.Min(at, line.Length - 1), 1).Insert(Math.Min(at, line.Length - 1), ((char)rng.Next(0x20, 0x7F)).ToString());
                    break;
                case 3: // duplicate a line
                    lines.Insert(li, line);
                    break;
                case 4: // drop a line
                    if (lines.Count > 1) lines.RemoveAt(li);
                    break;
                case 5: // swap two lines
                    int lj = rng.Next(lines.Count);
                    (lines[li], lines[lj]) = (lines[lj], lines[li]);
                    break;
                default: // flip a digit: valid text that means something else
                    int d = line.IndexOfAny("0123456789".ToCharArray(), at);
                    if (d >= 0) lines[li] = line.Remove(d, 1).Insert(d, rng.Next(10).ToString());
                    break;
            }
        }
        return string.Join('\n', lines);
    }
}
