namespace DmaVerify.Optimized.Iova;

/// <summary>
/// One occupied PFN range [Lo, Hi] in a red-black tree keyed by Lo. The gap fields are used
/// only by <see cref="AugmentedIovaAllocator"/>; LinuxStyle leaves them zero.
/// </summary>
internal sealed class IovaNode
{
    public ulong Lo;
    public ulong Hi;
    public IovaNode? Left;
    public IovaNode? Right;
    public IovaNode? Parent;
    public bool Red;
    /// <summary>Created by a reservation rather than an allocation.</summary>
    public bool Reserved;

    /// <summary>Free pages of the gap just below this node: [Lo − GapSize, Lo − 1], clipped at
    /// the allocator's start PFN.</summary>
    public ulong GapSize;
    /// <summary><see cref="IovaFit.FitCapacity"/> of that gap: the largest size-aligned request it holds.</summary>
    public ulong GapCap;
    /// <summary>Largest <see cref="GapSize"/> in this node's subtree.</summary>
    public ulong SubGap;
    /// <summary>Largest <see cref="GapCap"/> in this node's subtree.</summary>
    public ulong SubCap;

    public IovaNode(ulong lo, ulong hi, bool reserved = false)
    {
        Lo = lo;
        Hi = hi;
        Reserved = reserved;
    }

    public override string ToString() => $"[{Lo:X}..{Hi:X}]{(Reserved ? " reserved" : "")}";
}
