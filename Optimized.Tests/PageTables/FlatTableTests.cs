using DmaVerify.Contracts;
using DmaVerify.Model;
using DmaVerify.Optimized.PageTables;

namespace DmaVerify.Tests.PageTables;

public class FlatTableTests
{
    private const ulong Aperture = 0x4000_0000, ApertureSize = 64UL << 20, Scratch = 0x7000;

    private static PageTable<K8Gart> Gart() => PageTable<K8Gart>.TryCreate(new K8Gart(Aperture, ApertureSize, Scratch))!;

    [Fact]
    public void UnmappedGartSlotsPointAtTheScratchPage()
    {
        var gart = Gart();
        var seams = (IPageTableInternals)gart;
        uint scratchEntry = GartPte.Encode(Scratch); // 0x7000 | 3
        Assert.Equal(0x7003u, scratchEntry);
        for (ulong iova = Aperture; iova < Aperture + ApertureSize; iova += 0x10_0000)
            Assert.Equal(scratchEntry, seams.RawEntryForTest(iova, 0));
        Assert.Null(gart.Translate(Aperture)); // an unmapped aperture page aborts

        Assert.True(gart.Map(Aperture + 0x5000, 0x12_3456_7000, 0x1000, Prot.Read).IsSuccess);
        Assert.Equal(0x3456_7123UL, seams.RawEntryForTest(Aperture + 0x5000, 0));
        // No permission bits: every GART mapping reads back as R|W.
        Assert.Equal(new Translation(0x12_3456_7042, Prot.Read | Prot.Write, Aperture + 0x5000, 0x1000), gart.Translate(Aperture + 0x5042));
        Assert.Equal(0x1000UL, gart.Unmap(Aperture + 0x5000, 0x1000));
        Assert.Equal(scratchEntry, seams.RawEntryForTest(Aperture + 0x5000, 0));
        Assert.Empty(gart.Audit());
    }

    [Fact]
    public void GartRefusesTheScratchPageAndAddressesBeyondFortyBits()
    {
        var gart = Gart();
        Assert.Equal(DmaErrorKind.InvalidArgument, gart.Map(Aperture, Scratch, 0x1000, Prot.Read).Error);
        Assert.Equal(DmaErrorKind.InvalidArgument, gart.Map(Aperture, 0x5000, 0x4000, Prot.Read).Error);
        Assert.Equal(DmaErrorKind.OutOfRange, gart.Map(Aperture, 1UL << 40, 0x1000, Prot.Read).Error);
        Assert.True(gart.Map(Aperture, (1UL << 40) - 0x1000, 0x1000, Prot.Read).IsSuccess);
        Assert.Equal(DmaErrorKind.OutOfRange, gart.Map(Aperture - 0x1000, 0x1_0000, 0x1000, Prot.Read).Error);
        Assert.Equal(DmaErrorKind.OutOfRange, gart.Map(Aperture + ApertureSize - 0x1000, 0x1_0000, 0x2000, Prot.Read).Error);
        Assert.Equal(0UL, gart.Unmap(Aperture - 0x1000, 0x1000));
        Assert.Null(gart.Translate(Aperture + ApertureSize));
    }

    [Fact]
    public void TceWindowStartsAtItsBase()
    {
        var tce = PageTable<PowerTce>.TryCreate(new PowerTce(1UL << 32, 32, 16))!;
        var seams = (IPageTableInternals)tce;
        Assert.True(tce.Map(1UL << 32, 0x0009_8765_4321_0000, 0x1_0000, Prot.Read | Prot.Write).IsSuccess);
        Assert.Equal(0x0009_8765_4321_0003UL, seams.RawEntryForTest(1UL << 32, 0));
        Assert.True(tce.Map((1UL << 33) - 0x1_0000, 0, 0x1_0000, Prot.Write).IsSuccess); // last TCE, PA 0, asked write-only
        // tce_build sets TCE_PCI_READ on every entry: a write-only request reads back read-write.
        Assert.Equal(new Translation(0x10, Prot.Read | Prot.Write, (1UL << 33) - 0x1_0000, 0x1_0000), tce.Translate((1UL << 33) - 0x1_0000 + 0x10));
        Assert.Equal(DmaErrorKind.OutOfRange, tce.Map((1UL << 32) - 0x1_0000, 0, 0x1_0000, Prot.Read).Error);
        Assert.Equal(DmaErrorKind.OutOfRange, tce.Map(1UL << 33, 0, 0x1_0000, Prot.Read).Error);
        Assert.Equal(DmaErrorKind.Unaligned, tce.Map(1UL << 32, 0x1000, 0x1_0000, Prot.Read).Error);
        Assert.Equal(2, tce.Leaves().Count);
    }
}
