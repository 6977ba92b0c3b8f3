using DmaVerify.Contracts;
using DmaVerify.Model;
using static DmaVerify.Tests.Model.Kit;

namespace DmaVerify.Tests.Model;

/// <summary>
/// dma-debug's unmap checks (docs/linux-facts.md#dma-api-debug, INV-10): each misuse has its own
/// error kind and changes nothing — mappings, allocations, leaves, IOTLB, flush queue and bounce
/// slots print the same before and after. x86-vtd dev 0 (DMA-FQ domain) with one single mapping
/// (TO_DEVICE, 0x1000 bytes at IOVA 0xFFFF_F000) unless a test says otherwise.
/// </summary>
public class MisuseTests
{
    private const ulong Handle = 0xFFFF_F000;

    private static ModelSystem WithOneSingleMapping()
    {
        var m = New("x86-vtd");
        Assert.Equal(Handle, m.MapOk(0, 0x1_0000_0000, K4, DmaDirection.ToDevice).Dma.Value);
        m.Reaches(0, Handle, 0x1_0000_0000, K4, write: false); // an IOTLB entry too
        return m;
    }

    public static TheoryData<string, Op, DmaErrorKind> SingleMappingMisuse => new()
    {
        { "never mapped address", new Unmap(0, new RawRef(0x1234_5000), K4, DmaDirection.ToDevice), DmaErrorKind.UnknownHandle },
        { "no such live mapping", new Unmap(0, new LiveRef(1), K4, DmaDirection.ToDevice), DmaErrorKind.UnknownHandle },
        { "inside the mapping, not its handle", new Unmap(0, new LiveRef(0, 0x10), K4, DmaDirection.ToDevice), DmaErrorKind.UnknownHandle },
        { "another device's handle", new Unmap(1, new RawRef(Handle), K4, DmaDirection.ToDevice), DmaErrorKind.UnknownHandle },
        { "wrong size", new Unmap(0, new LiveRef(0), 0x2000, DmaDirection.ToDevice), DmaErrorKind.WrongSize },
        { "wrong direction", new Unmap(0, new LiveRef(0), K4, DmaDirection.FromDevice), DmaErrorKind.WrongDirection },
        { "bidirectional is still a different direction", new Unmap(0, new LiveRef(0), K4, DmaDirection.Bidirectional), DmaErrorKind.WrongDirection },
        { "single unmapped as sg", new UnmapSg(0, new LiveRef(0), 1, DmaDirection.ToDevice), DmaErrorKind.WrongFunction },
        { "single freed as coherent", new FreeCoherent(0, new LiveRef(0), K4), DmaErrorKind.WrongFunction },
        { "single unmapped as resource", new UnmapResource(0, new LiveRef(0), K4, DmaDirection.ToDevice), DmaErrorKind.WrongFunction },
        { "DMA_MAPPING_ERROR", new Unmap(0, new RawRef(ulong.MaxValue), K4, DmaDirection.ToDevice), DmaErrorKind.InvalidDmaAddress },
    };

    [Theory]
    [MemberData(nameof(SingleMappingMisuse))]
    public void MisuseIsDetectedAndChangesNothing(string what, Op op, DmaErrorKind kind)
    {
        _ = what;
        var m = WithOneSingleMapping();
        var before = m.State.Clone();
        m.Refused(op, kind);
        Assert.Equal(Fingerprint(before), Fingerprint(m.State));
        Assert.Single(m.State.Mappings);
        // The mapping is still usable and can then be unmapped properly.
        m.Reaches(0, Handle, 0x1_0000_0000, K4, write: false);
        m.Ok<Done>(new Unmap(0, new LiveRef(0), K4, DmaDirection.ToDevice));
    }

    [Fact]
    public void DoubleUnmapIsItsOwnError()
    {
        var m = WithOneSingleMapping();
        m.Ok<Done>(new Unmap(0, new LiveRef(0), K4, DmaDirection.ToDevice));
        var afterFirst = m.State.Clone();
        m.Refused(new Unmap(0, new RawRef(Handle), K4, DmaDirection.ToDevice), DmaErrorKind.DoubleUnmap);
        Assert.Equal(Fingerprint(afterFirst), Fingerprint(m.State));
        // The IOVA is still in the flush queue (lazy) and was not freed twice.
        Assert.Single(m.DomainOf(0).FlushQueue);
    }

    [Fact]
    public void HandleHandedOutAgainIsNoLongerADoubleUnmap()
    {
        var m = New("amd-vi"); // strict: the IOVA is reused at once
        Assert.Equal(Handle, m.MapOk(0, 0x1_0000_0000, K4).Dma.Value);
        m.Ok<Done>(new Unmap(0, new RawRef(Handle), K4, Bidi));
        Assert.Equal(Handle, m.MapOk(0, 0x1_0000_2000, K4).Dma.Value);
        m.Ok<Done>(new Unmap(0, new RawRef(Handle), K4, Bidi));
        m.RefusedWithoutChange(new Unmap(0, new RawRef(Handle), K4, Bidi), DmaErrorKind.DoubleUnmap);
    }

    [Fact]
    public void SgCountMismatchAndSgUnmappedAsSingle()
    {
        var m = New("x86-vtd");
        // dev 3: two entries → one IOVA range and one merged segment.
        var sg = m.MapSgOk(3, (0x1_0000_0000, K4), (0x1_0000_8000, K4));
        var handle = sg.Segments[0].Dma.Value;
        m.RefusedWithoutChange(new UnmapSg(3, new LiveRef(0), 3, Bidi), DmaErrorKind.SgCountMismatch);
        // nents is the number passed to map, not the number of DMA segments returned (1).
        m.RefusedWithoutChange(new UnmapSg(3, new LiveRef(0), sg.Segments.Count, Bidi), DmaErrorKind.SgCountMismatch);
        m.RefusedWithoutChange(new UnmapSg(3, new LiveRef(0), 2, DmaDirection.FromDevice), DmaErrorKind.WrongDirection);
        m.RefusedWithoutChange(new Unmap(3, new RawRef(handle), 0x2000, Bidi), DmaErrorKind.WrongFunction);
        m.Ok<Done>(new UnmapSg(3, new LiveRef(0), 2, Bidi));
        m.RefusedWithoutChange(new UnmapSg(3, new RawRef(handle), 2, Bidi), DmaErrorKind.DoubleUnmap);
    }

    [Fact]
    public void CoherentFreedWithWrongSizeOrFunction()
    {
        var m = New("x86-vtd");
        var mapped = m.Ok<Mapped>(new AllocCoherent(3, new PhysAddr(0x1_0000_0000), 0x2000));
        m.RefusedWithoutChange(new FreeCoherent(3, new LiveRef(0), K4), DmaErrorKind.WrongSize);
        m.RefusedWithoutChange(new Unmap(3, new LiveRef(0), 0x2000, Bidi), DmaErrorKind.WrongFunction);
        m.RefusedWithoutChange(new FreeCoherent(3, new RawRef(ulong.MaxValue), 0x2000), DmaErrorKind.InvalidDmaAddress);
        m.Ok<Done>(new FreeCoherent(3, new RawRef(mapped.Dma.Value), 0x2000));
        Assert.Empty(m.State.Mappings);
    }

    [Fact]
    public void MisuseOnADirectDeviceChangesNoBounceSlot()
    {
        var m = New("direct");
        m.MapOk(1, 0x1_0000_0000, K4); // bounced
        Assert.Single(m.State.Bounces);
        m.RefusedWithoutChange(new Unmap(1, new LiveRef(0), 0x800, Bidi), DmaErrorKind.WrongSize);
        m.RefusedWithoutChange(new Unmap(1, new LiveRef(0), K4, DmaDirection.ToDevice), DmaErrorKind.WrongDirection);
        Assert.Single(m.State.Bounces);
    }
}
