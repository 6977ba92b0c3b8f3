namespace DmaVerify.Contracts;

/// <summary>
/// What the model needs to know of a page-table format: the granule (smallest page), the
/// supported page sizes, how many address bits it translates, the largest output address,
/// and the radix shape (bits decoded per level) used to count table pages (INV-14).
/// The bit layouts themselves live in Optimized/.
/// </summary>
public sealed record PageTableGeometry
{
    public required PageTableFormatKind Format { get; init; }
    /// <summary>Bit set of supported page sizes (bit n set = 2^n bytes), like pgsize_bitmap.</summary>
    public required ulong PageSizes { get; init; }
    /// <summary>Input (IOVA) address bits the table translates.</summary>
    public required int InputBits { get; init; }
    /// <summary>Output (physical) address bits a leaf can hold.</summary>
    public required int OutputBits { get; init; }
    /// <summary>Index bits decoded per level, leaf level last (e.g. 9,9,9,9 for 4-level VT-d).
    /// Flat tables (GART, TCE) have one level.</summary>
    public required IReadOnlyList<int> LevelBits { get; init; }

    public ulong Granule => PageSizes & (~PageSizes + 1);
    public int GranuleShift => System.Numerics.BitOperations.TrailingZeroCount(Granule);
    public ulong MaxInput => InputBits >= 64 ? ulong.MaxValue : (1UL << InputBits) - 1;
    public ulong MaxOutput => OutputBits >= 64 ? ulong.MaxValue : (1UL << OutputBits) - 1;

    public bool SupportsPageSize(ulong size) => size != 0 && (size & (size - 1)) == 0 && (PageSizes & size) != 0;

    public string Describe() => $"{Format} granule {Hex.Format(Granule)} sizes {Hex.Format(PageSizes)} ias {InputBits} oas {OutputBits}";

    public bool Equals(PageTableGeometry? other) =>
        other is not null && Format == other.Format && PageSizes == other.PageSizes &&
        InputBits == other.InputBits && OutputBits == other.OutputBits && LevelBits.SequenceEqual(other.LevelBits);

    public override int GetHashCode() => HashCode.Combine(Format, PageSizes, InputBits, OutputBits);
}
