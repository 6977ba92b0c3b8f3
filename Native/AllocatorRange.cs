namespace DmaVerify.Native;

/// <summary>What an occupied range is, in the allocator's own view.</summary>
public enum AllocatorRangeKind { Allocated, Cached, Reserved }

/// <summary>One range of an allocator's own view (dv_iova_ranges), inclusive.</summary>
public readonly record struct AllocatorRange(ulong PfnLo, ulong PfnHi, AllocatorRangeKind Kind)
{
    public ulong Pages => PfnHi - PfnLo + 1;
    public override string ToString() => $"[{PfnLo:X}..{PfnHi:X}] {Kind.ToString().ToLowerInvariant()}";
}

/// <summary>A plugged allocator instance that can show its own view of the space (the C ABI's
/// optional dv_iova_ranges, which tells cached ranges apart). <see cref="HasOwnView"/> is false
/// when the library does not export it; <see cref="OwnRanges"/> is then empty.</summary>
public interface IAllocatorView
{
    bool HasOwnView { get; }
    IReadOnlyList<AllocatorRange> OwnRanges();
}
