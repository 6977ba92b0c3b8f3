using DmaVerify.Optimized.PageTables;

namespace DmaVerify.Tests.PageTables;

/// <summary>
/// One page-table configuration under test: how to build it, and the IOVA window the random
/// tests use (chosen to exercise high IOVAs, concatenated tops and AMD growth).
/// </summary>
public sealed record TableCase(string Name, Func<PageTableOptions, IPageTable> Create, ulong IovaLo, int IovaSpanLog2, int MaxUnitLog2, int PaSpanLog2)
{
    public IPageTable New(PageTableOptions? options = null) => Create(options ?? new PageTableOptions());
    public override string ToString() => Name;
}

public static class TableCases
{
    private const ulong K4 = 1UL << 12, K16 = 1UL << 14, K64 = 1UL << 16;

    private static IPageTable Make<T>(T format, PageTableOptions options) where T : struct, IPteFormat =>
        PageTable<T>.TryCreate(format, options) ?? throw new InvalidOperationException("top table refused");

    public static readonly IReadOnlyList<TableCase> All =
    [
        new("vtd-3", o => Make(new VtdSecondStage(3), o), 0, 39, 30, 52),
        new("vtd-4", o => Make(new VtdSecondStage(4), o), 1UL << 46, 40, 30, 52),
        new("vtd-5", o => Make(new VtdSecondStage(5), o), (1UL << 57) - (1UL << 40), 40, 30, 52),
        new("amd-48", o => Make(new AmdV1(48), o), (1UL << 48) - (1UL << 44), 44, 38, 52),
        new("amd-48-leaf-array", o => Make(new AmdV1(48), o with { LeafPageArray = true }), (1UL << 48) - (1UL << 34), 34, 24, 52),
        new("amd-64", o => Make(new AmdV1(64), o), (1UL << 63) + (1UL << 50), 48, 42, 52),
        new("lpae-s1-4k", o => Make(new ArmLpae(K4, 48), o), 1UL << 40, 38, 30, 48),
        new("lpae-s2-4k-ias40", o => Make(new ArmLpae(K4, 40, 0, stage2: true), o), 0, 40, 30, 48),
        new("lpae-s1-16k", o => Make(new ArmLpae(K16, 48), o), 1UL << 44, 38, 25, 48),
        new("lpae-s2-16k", o => Make(new ArmLpae(K16, 48, 0, stage2: true), o), 1UL << 47, 38, 25, 48),
        new("lpae-s1-64k-52", o => Make(new ArmLpae(K64, 52, 52), o), 1UL << 51, 48, 42, 52),
        new("lpae-s2-64k", o => Make(new ArmLpae(K64, 48, 0, stage2: true), o), 1UL << 45, 40, 29, 52),
        new("gart", o => Make(new K8Gart(0x4000_0000, 64UL << 20), o), 0x4000_0000, 26, 12, 39),
        new("tce-4k", o => Make(new PowerTce(0, 31, 12), o), 0, 31, 12, 52),
        new("tce-64k", o => Make(new PowerTce(1UL << 32, 32, 16), o), 1UL << 32, 32, 16, 52),
        new("tce-2m", o => Make(new PowerTce(0, 35, 21), o), 0, 35, 21, 52),
        new("tce-16m", o => Make(new PowerTce(0, 36, 24), o), 0, 36, 24, 52),
    ];

    public static TableCase Get(string name) => All.Single(c => c.Name == name);

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var c in All) data.Add(c.Name);
        return data;
    }

    /// <summary>Radix formats (the ones that allocate tables while mapping).</summary>
    public static TheoryData<string> RadixNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in All.Where(c => !c.Name.StartsWith("gart") && !c.Name.StartsWith("tce"))) data.Add(c.Name);
        return data;
    }
}
