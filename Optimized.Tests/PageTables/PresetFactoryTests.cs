using DmaVerify.Contracts;
using DmaVerify.Model;
using DmaVerify.Optimized.PageTables;

namespace DmaVerify.Tests.PageTables;

/// <summary>Every IOMMU of every preset gets a page table whose page sizes are the model's, and
/// whose leaves for a map are the model's LeavesFor.</summary>
public class PresetFactoryTests
{
    [Fact]
    public void EveryPresetGeometryBuildsAMatchingTable()
    {
        int built = 0;
        foreach (var name in Presets.Names.Concat(Presets.Variants))
            foreach (var iommu in Presets.Get(name).Iommus)
            {
                var geometry = iommu.Format;
                var table = PageTableFactory.Create(geometry, new PageTableOptions { IovaBase = iommu.ApertureStart });
                Assert.Equal(geometry.Format, table.Kind);
                Assert.Equal(geometry.PageSizes, table.PageSizes);
                Assert.Equal(geometry.Granule, table.Granule);
                Assert.Equal(geometry.MaxOutput, table.PaLast);
                Assert.Equal(Math.Min(geometry.MaxInput, iommu.ApertureEnd), Math.Min(table.IovaLast, iommu.ApertureEnd));

                ulong g = geometry.Granule;
                ulong iova = iommu.ApertureStart + 32 * g, pa = 0x8000_0000 + 3 * g, size = 0x40_0000 + 5 * g;
                if (iova + size - 1 > iommu.ApertureEnd) size = 16 * g;
                var prot = Prot.Read | Prot.Write;
                Assert.True(table.Map(iova, pa, size, prot).IsSuccess, $"{name} iommu {iommu.Id}");
                Assert.Equal(DmaRules.LeavesFor(geometry.PageSizes, iova, pa, size, table.EffectiveProt(prot)), table.Leaves());
                Assert.Equal(size, table.Unmap(iova, size));
                Assert.Equal(1, table.TablePages);
                built++;
            }
        Assert.True(built >= 10);
    }
}
