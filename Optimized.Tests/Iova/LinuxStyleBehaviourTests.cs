using DmaVerify.Optimized.Iova;

namespace DmaVerify.Tests.IovaAllocators;

/// <summary>LinuxStyle follows the walk described in docs/linux-facts.md#iova-allocator.</summary>
public class LinuxStyleBehaviourTests
{
    private const ulong Limit32 = Allocators.Limit32;

    [Fact]
    public void AllocatesTopDownFromTheCachedNode()
    {
        var a = new LinuxStyleIovaAllocator(1);
        Assert.Equal([Limit32, Limit32 - 1, Limit32 - 2], new[] { a.Alloc(1, Limit32, true), a.Alloc(1, Limit32, true), a.Alloc(1, Limit32, true) });
        // Above 4 GiB the other cached node is used, starting from the limit.
        Assert.Equal(0x1FFFFFUL, a.Alloc(1, 0x1FFFFF, true));
        Assert.Equal(0x1FFFFEUL, a.Alloc(1, 0x1FFFFF, true));
        Assert.Equal(Limit32 - 3, a.Alloc(1, Limit32, true));
        Assert.Null(a.CheckTree());
    }

    [Fact]
    public void FirstPassStartsBelowTheCachedNodeSoTheResultIsNotAlwaysTheHighest()
    {
        var a = new LinuxStyleIovaAllocator(1);
        Assert.Equal(0x3FFFFUL, a.Alloc(1, 0x3FFFF, true)); // a 30-bit device: cached32 = this node
        Assert.Equal(0x3FFFEUL, a.Alloc(1, Limit32, true)); // the highest fit would be 0xFFFFF
        Assert.Equal(Limit32, new AugmentedIovaAllocator(1).Alloc(1, Limit32, true));
    }

    [Fact]
    public void SecondPassSearchesTheWindowAboveTheCachedNode()
    {
        var a = new LinuxStyleIovaAllocator(1);
        Assert.True(a.Reserve(1, 0x3FFFE));
        Assert.Equal(0x3FFFFUL, a.Alloc(1, 0x3FFFF, true)); // cached32 = [0x3FFFF]; below it is full
        Assert.Equal(Limit32, a.Alloc(1, Limit32, true));   // first pass fails, second pass finds the top
        Assert.Equal(LinuxStyleIovaAllocator.Outcome.Allocated, a.LastOutcome);
    }

    [Fact]
    public void FreeingMovesTheCachedNodeUp()
    {
        var a = new LinuxStyleIovaAllocator(1);
        ulong p1 = a.Alloc(1, Limit32, true), p2 = a.Alloc(1, Limit32, true), p3 = a.Alloc(1, Limit32, true);
        Assert.True(a.Free(p1));                    // above cached32 (p3): cached32 moves to p1's successor (the anchor)
        Assert.Equal(p1, a.Alloc(1, Limit32, true));
        Assert.True(a.Free(p2));                    // below the new cached32 (p1): it stays
        Assert.Equal(p2, a.Alloc(1, Limit32, true)); // the first pass from p1 finds p2's hole at once
        Assert.Equal(p3 - 1, a.Alloc(1, Limit32, true));
        Assert.Null(a.CheckTree());
    }

    [Fact]
    public void ReserveMergesIntoEveryOverlappingNode()
    {
        var a = new LinuxStyleIovaAllocator(1);
        Assert.True(a.Reserve(10, 20));
        Assert.True(a.Reserve(30, 40));
        Assert.True(a.Reserve(5, 50));
        Assert.Equal([new IovaRange(5, 20, true), new IovaRange(21, 40, true), new IovaRange(41, 50, true)], a.Ranges());
        Assert.True(a.Reserve(12, 18));             // inside a node: nothing new
        Assert.Equal(3, a.Count);
        Assert.True(a.Free(25));                    // reserved nodes are ordinary nodes to free_iova
        Assert.Equal(2, a.Count);
        Assert.Null(a.CheckTree());
    }
}
