using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Explore;

/// <summary>The buffer shapes the alphabet maps, each chosen for a boundary where DMA code breaks.</summary>
public enum BufferKind
{
    /// <summary>One byte inside a granule: the smallest mapping; bounced for untrusted devices.</summary>
    Byte,
    /// <summary>Granule − 1 bytes from offset 1: ends on a granule boundary, still sub-granule.</summary>
    SubGranule,
    /// <summary>Exactly one aligned granule.</summary>
    Granule,
    /// <summary>Granule + 1 bytes: one byte into the next page (two leaves, two IOTLB entries).</summary>
    GranulePlusOne,
    /// <summary>The smallest superpage of the format at a superpage-aligned physical address (one large leaf).</summary>
    Superpage,
    /// <summary>A superpage's length one granule off superpage alignment in physical memory (no large leaf may be used).</summary>
    SuperpageOffPhys,
    /// <summary>A granule whose last byte is the device's DMA limit (min of mask and bus limit).</summary>
    AtLimit,
    /// <summary>A granule starting one byte past the device's DMA limit (bounce, remap or refusal).</summary>
    PastLimit,
    /// <summary>The largest length whose IOVA still fits below the device's limit in its domain (the model finds it).</summary>
    Largest,
    /// <summary>One granule more than <see cref="Largest"/>: out of IOVA space (completeness, INV-11).</summary>
    LargestPlusGranule,
}

/// <summary>One buffer of the alphabet: a map of it is one op.</summary>
public sealed record Buffer(int Device, BufferKind Kind, PhysAddr Phys, ulong Length, DmaDirection Direction)
{
    public Map ToMap() => new(Device, Phys, Length, Direction);
}

/// <summary>Where the alphabet's buffers live: each (device, kind) its own physical slot, so
/// accesses show which mapping they reached, inside RAM and away from the swiotlb pool.</summary>
internal sealed class BufferPlacement
{
    private readonly PlatformConfig _platform;
    private readonly AddrRange _ram;
    private readonly ulong _stride;
    private int _next;

    public BufferPlacement(PlatformConfig platform, ulong superpage)
    {
        _platform = platform;
        // The largest RAM range holds the buffers that any translated device can reach.
        _ram = platform.Ram.OrderByDescending(r => r.Size).ThenBy(r => r.Start).First();
        _stride = Math.Max(8UL << 20, superpage * 2);
    }

    /// <summary>A fresh slot of <paramref name="length"/> bytes aligned to <paramref name="alignment"/>, or null when RAM is too small.</summary>
    public ulong? Slot(ulong length, ulong alignment)
    {
        ulong start = AlignUp(_ram.Start + (16UL << 20) + (ulong)_next * _stride, Math.Max(alignment, 1));
        _next++;
        if (!AddrRange.TryFromLength(start, length, out var range) || !_ram.Contains(range) || Overlaps(range)) return null;
        return start;
    }

    private bool Overlaps(AddrRange range) => _platform.SwiotlbPool is { } pool && pool.Overlaps(range);

    public static ulong AlignUp(ulong value, ulong alignment) => (value + alignment - 1) & ~(alignment - 1);
}
