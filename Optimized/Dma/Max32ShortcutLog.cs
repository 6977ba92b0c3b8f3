namespace DmaVerify.Optimized.Dma;

/// <summary>
/// Where LinuxStyle's max32_alloc_size shortcut refused an allocation (the tree walk was
/// skipped because an earlier failure of this size or smaller was remembered). These are the
/// allocator's documented incompleteness (INV-11), counted so a run can report them instead of
/// hiding them. Always zero with the augmented allocator.
/// </summary>
public sealed class Max32ShortcutLog
{
    /// <summary>32-bit-first attempts the shortcut refused (the device then fell back above
    /// 4 GiB; the model allows that only with <c>StrictPci32First = false</c>).</summary>
    public long RefusedPci32Passes { get; internal set; }

    /// <summary>Ops that failed with OutOfIova whose last tree attempt the shortcut refused,
    /// whether or not a range existed (a refinement run tells those apart: only the ones where
    /// the model found a range become known deviations).</summary>
    public long RefusedAllocations { get; internal set; }

    /// <summary>Whether the most recent op failed with OutOfIova with its last tree attempt refused by the shortcut.</summary>
    public bool LastOpRefused { get; internal set; }

    public override string ToString() =>
        $"max32 shortcut: {RefusedAllocations} refused allocation(s), {RefusedPci32Passes} refused 32-bit-first attempt(s)";
}
