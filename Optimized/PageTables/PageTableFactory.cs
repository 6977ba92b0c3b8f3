using DmaVerify.Contracts;

namespace DmaVerify.Optimized.PageTables;

/// <summary>Builds the page table for a model geometry (Model/Presets/Formats.cs).</summary>
public static class PageTableFactory
{
    /// <summary>A page table for <paramref name="geometry"/>, or null when the allocator refused
    /// the top table (fault injection). Throws for a geometry no format supports.</summary>
    public static IPageTable? TryCreate(PageTableGeometry geometry, PageTableOptions? options = null)
    {
        options ??= new PageTableOptions();
        return geometry.Format switch
        {
            PageTableFormatKind.VtdSecondStage =>
                PageTable<VtdSecondStage>.TryCreate(new VtdSecondStage((geometry.InputBits - 12) / 9), options),
            PageTableFormatKind.AmdV1 =>
                PageTable<AmdV1>.TryCreate(new AmdV1(geometry.InputBits), options),
            PageTableFormatKind.ArmLpaeS1 or PageTableFormatKind.ArmLpaeS2 =>
                PageTable<ArmLpae>.TryCreate(new ArmLpae(geometry.Granule, geometry.InputBits, geometry.OutputBits,
                    geometry.Format == PageTableFormatKind.ArmLpaeS2, geometry.PageSizes), options),
            PageTableFormatKind.Gart =>
                PageTable<K8Gart>.TryCreate(new K8Gart(options.IovaBase, geometry.Granule << geometry.LevelBits[0], options.GartScratchPa), options),
            PageTableFormatKind.Tce =>
                PageTable<PowerTce>.TryCreate(new PowerTce(options.IovaBase, geometry.InputBits, geometry.GranuleShift), options),
            _ => throw new ArgumentException($"no page-table format for {geometry.Describe()}", nameof(geometry)),
        };
    }

    /// <summary>Like <see cref="TryCreate"/> for callers without fault injection.</summary>
    public static IPageTable Create(PageTableGeometry geometry, PageTableOptions? options = null) =>
        TryCreate(geometry, options) ?? throw new InvalidOperationException("the table page allocator refused the top table");
}
