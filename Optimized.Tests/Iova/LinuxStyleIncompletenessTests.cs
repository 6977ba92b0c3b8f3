using DmaVerify.Harness;
using DmaVerify.Optimized.Iova;

namespace DmaVerify.Tests.IovaAllocators;

/// <summary>
/// Concrete cases where LinuxStyle (faithful to Linux's iova.c) refuses a request although the
/// specification says a range exists (INV-11), and where its reserve_iova breaks the model's
/// reservation rule. Each case is checked against the model and against the Augmented
/// allocator on the same sequence.
/// </summary>
public class LinuxStyleIncompletenessTests
{
    private const ulong Limit1G = (1UL << 18) - 1; // a 30-bit device
    private const ulong Limit32 = Allocators.Limit32;

    [Fact]
    public void LinuxStyle_Max32HintSetUnderALowLimit_RefusesRoomUpTo4GiB()
    {
        var linux = new LinuxStyleIovaAllocator(1);
        var augmented = new AugmentedIovaAllocator(1);
        var mirror = new AllocatorMirror(1, 12);
        foreach (var a in new IIovaAllocator[] { linux, augmented }) Assert.True(a.Reserve(1, Limit1G));
        mirror.Reserved(1, Limit1G);

        // Nothing fits below 1 GiB: right to fail, and Linux records max32_alloc_size = 1.
        Assert.Equal(0UL, linux.AllocFast(1, Limit1G, true));
        Assert.Equal(0UL, augmented.AllocFast(1, Limit1G, true));
        Assert.Equal(1UL, linux.Max32AllocSize);

        // [1 GiB, 4 GiB) is empty, but the hint does not know the limit it was learnt under.
        var request = mirror.FastRequest(1, Limit32);
        Assert.NotNull(mirror.Fit(request));
        Assert.Equal(0UL, linux.AllocFast(1, Limit32, true));
        Assert.Equal(LinuxStyleIovaAllocator.Outcome.Max32FastFail, linux.LastOutcome);
        Assert.Equal(Limit32, augmented.AllocFast(1, Limit32, true));
        // Above 4 GiB the hint is not consulted.
        Assert.NotEqual(0UL, linux.AllocFast(1, Limit32 + 1, true));
    }

    [Fact]
    public void LinuxStyle_Max32HintFromAnAlignedFailure_RefusesAnUnalignedFit()
    {
        var linux = new LinuxStyleIovaAllocator(1);
        var augmented = new AugmentedIovaAllocator(1);
        var mirror = new AllocatorMirror(1, 12);
        // Below 4 GiB only [5, 7] is free: three pages, no 4-aligned start.
        foreach (var a in new IIovaAllocator[] { linux, augmented })
            Assert.True(a.Reserve(1, 4) && a.Reserve(8, Limit32));
        mirror.Reserved(1, 4);
        mirror.Reserved(8, Limit32);

        Assert.Null(mirror.Fit(AllocatorMirror.TreeRequest(3, Limit32, sizeAligned: true)));
        Assert.Equal(0UL, linux.Alloc(3, Limit32, sizeAligned: true));
        Assert.Equal(0UL, augmented.Alloc(3, Limit32, sizeAligned: true));

        Assert.NotNull(mirror.Fit(AllocatorMirror.TreeRequest(3, Limit32, sizeAligned: false)));
        Assert.Equal(0UL, linux.Alloc(3, Limit32, sizeAligned: false));
        Assert.Equal(LinuxStyleIovaAllocator.Outcome.Max32FastFail, linux.LastOutcome);
        Assert.Equal(5UL, augmented.Alloc(3, Limit32, sizeAligned: false));
    }

    [Fact]
    public void LinuxStyle_Max32HintFromAFailureAbove4GiB_RefusesAnUnaligned32BitFit()
    {
        const ulong Limit8G = (1UL << 21) - 1;
        var linux = new LinuxStyleIovaAllocator(1);
        var augmented = new AugmentedIovaAllocator(1);
        var mirror = new AllocatorMirror(1, 12);
        // Below 8 GiB only [5, 7] is free.
        foreach (var a in new IIovaAllocator[] { linux, augmented })
            Assert.True(a.Reserve(1, 4) && a.Reserve(8, Limit8G));
        mirror.Reserved(1, 4);
        mirror.Reserved(8, Limit8G);

        // A failure under a limit above 4 GiB still sets max32_alloc_size ("unconditionally").
        Assert.Equal(0UL, linux.Alloc(3, Limit8G, sizeAligned: true));
        Assert.Equal(LinuxStyleIovaAllocator.Outcome.WalkFailed, linux.LastOutcome);
        Assert.Equal(3UL, linux.Max32AllocSize);

        Assert.NotNull(mirror.Fit(AllocatorMirror.TreeRequest(3, Limit32, sizeAligned: false)));
        Assert.Equal(0UL, linux.Alloc(3, Limit32, sizeAligned: false));
        Assert.Equal(LinuxStyleIovaAllocator.Outcome.Max32FastFail, linux.LastOutcome);
        Assert.Equal(5UL, augmented.Alloc(3, Limit32, sizeAligned: false));
        // The same request with a limit above 4 GiB walks the tree and finds it.
        Assert.Equal(5UL, linux.Alloc(3, Limit8G, sizeAligned: false));
    }

    [Fact]
    public void LinuxStyle_Max32HintIsResetOnlyByFreeingBelow4GiB()
    {
        var linux = new LinuxStyleIovaAllocator(1);
        Assert.True(linux.Reserve(1, Limit1G));
        ulong high = linux.AllocFast(1, Limit32 + 0x1000, true);
        ulong low = linux.AllocFast(1, Limit32, true);
        Assert.True(high > Limit32 && low <= Limit32 && low > Limit1G);
        Assert.Equal(0UL, linux.AllocFast(1, Limit1G, true));
        Assert.Equal(1UL, linux.Max32AllocSize);
        Assert.True(linux.Free(high));                          // above 4 GiB: the hint stays
        Assert.Equal(1UL, linux.Max32AllocSize);
        Assert.True(linux.FreeFast(low, 1));                    // into the cache: no tree free, the hint stays
        Assert.Equal(1UL, linux.Max32AllocSize);
        Assert.Equal(low, linux.AllocFast(1, Limit32, true));   // a cache hit never reaches the hint
        Assert.True(linux.Free(low));                           // below 4 GiB: reset
        Assert.Equal(Limit32 + 1, linux.Max32AllocSize);
        Assert.Equal(Limit32, linux.AllocFast(1, Limit32, true));
    }

    [Fact]
    public void LinuxStyle_ReserveOverALiveAllocation_FreeingItReleasesTheReservedPart()
    {
        var linux = new LinuxStyleIovaAllocator(1);
        var augmented = new AugmentedIovaAllocator(1);
        ulong x = linux.Alloc(4, 0x103, sizeAligned: true);
        Assert.Equal(0x100UL, x);
        Assert.Equal(x, augmented.Alloc(4, 0x103, sizeAligned: true));

        // The model refuses a reservation over a live allocation; reserve_iova merges into it,
        // extending the node down to 0xFE, and adds a node for [0x104, 0x105].
        Assert.False(augmented.Reserve(0xFE, 0x105));
        Assert.True(linux.Reserve(0xFE, 0x105));
        Assert.Equal([new IovaRange(0xFE, 0x103, false), new IovaRange(0x104, 0x105, true)], linux.Ranges());

        // Freeing the allocation frees the reserved pages 0xFE and 0xFF with it...
        Assert.True(linux.Free(x));
        Assert.False(linux.Contains(0xFE));
        // ...and a later allocation lands inside the reservation (INV-02 in the model).
        var mirror = new AllocatorMirror(1, 12);
        mirror.Reserved(0xFE, 0x105);
        var request = AllocatorMirror.TreeRequest(2, 0xFF, sizeAligned: true);
        ulong y = linux.Alloc(2, 0xFF, sizeAligned: true);
        Assert.Equal(0xFEUL, y);
        Assert.Equal("INV-02", mirror.Judge(y, request)?.Invariant);
    }
}
