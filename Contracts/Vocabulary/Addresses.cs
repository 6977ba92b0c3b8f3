namespace DmaVerify.Contracts;

/// <summary>A CPU physical address (RAM, MMIO or a swiotlb slot). Never handed to a device as-is
/// unless a bypass rule says the bus address equals it.</summary>
public readonly record struct PhysAddr(ulong Value) : IComparable<PhysAddr>
{
    public int CompareTo(PhysAddr other) => Value.CompareTo(other.Value);
    public override string ToString() => Hex.Format(Value);
}

/// <summary>An address in one domain's IOVA space: what the IOMMU translates. Only meaningful
/// together with the domain it belongs to.</summary>
public readonly record struct Iova(ulong Value) : IComparable<Iova>
{
    public int CompareTo(Iova other) => Value.CompareTo(other.Value);
    public override string ToString() => Hex.Format(Value);
}

/// <summary>A bus address handed to a driver (dma_addr_t): an IOVA plus in-page offset, a bypass
/// address, or a bounce-buffer address. All-ones is DMA_MAPPING_ERROR.</summary>
public readonly record struct DmaAddr(ulong Value) : IComparable<DmaAddr>
{
    public static readonly DmaAddr MappingError = new(ulong.MaxValue);
    public int CompareTo(DmaAddr other) => Value.CompareTo(other.Value);
    public override string ToString() => Hex.Format(Value);
}

/// <summary>
/// A non-empty range of 64-bit addresses, stored as an inclusive [Start, Last] pair so that a
/// range may end at 2^64 without overflow. Sizes and exclusive ends are <see cref="UInt128"/>.
/// </summary>
public readonly record struct AddrRange
{
    public ulong Start { get; }
    public ulong Last { get; }

    public AddrRange(ulong start, ulong last)
    {
        if (last < start)
            throw new ArgumentException($"range last {Hex.Format(last)} is below start {Hex.Format(start)}");
        Start = start;
        Last = last;
    }

    /// <summary>[start, start + length) if it is non-empty and does not wrap past 2^64.</summary>
    public static bool TryFromLength(ulong start, ulong length, out AddrRange range)
    {
        range = default;
        if (length == 0 || length - 1 > ulong.MaxValue - start)
            return false;
        range = new AddrRange(start, start + (length - 1));
        return true;
    }

    /// <summary>Like <see cref="TryFromLength"/> for callers that have already validated.</summary>
    public static AddrRange FromLength(ulong start, ulong length) =>
        TryFromLength(start, length, out var r)
            ? r
            : throw new ArgumentException($"range {Hex.Format(start)}+{Hex.Format(length)} is empty or wraps past 2^64");

    public UInt128 Size => (UInt128)Last - Start + 1;
    public UInt128 End => (UInt128)Last + 1;

    public bool Contains(ulong address) => address >= Start && address <= Last;
    public bool Contains(AddrRange other) => other.Start >= Start && other.Last <= Last;
    public bool Overlaps(AddrRange other) => other.Start <= Last && Start <= other.Last;

    public AddrRange? Intersect(AddrRange other)
    {
        if (!Overlaps(other)) return null;
        return new AddrRange(Math.Max(Start, other.Start), Math.Min(Last, other.Last));
    }

    public override string ToString() => $"[{Hex.Format(Start)}..{Hex.Format(Last)}]";
}

/// <summary>Hex formatting used everywhere a number is shown to a user (0x-prefixed, upper case).</summary>
public static class Hex
{
    public static string Format(ulong value) => "0x" + value.ToString("X");
    public static string Format(UInt128 value) => "0x" + value.ToString("X");
}
