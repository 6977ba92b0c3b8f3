using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Pictures.Svg;

/// <summary>
/// A broken, logarithmic address axis for one panel. The whole 64-bit space [0, 2^64) is cut at
/// every address where something drawn starts or ends; each stretch between two cuts gets a
/// width that grows with log2 of its size (a 4 KiB page 1 unit, 1 GiB 3.25, the 2^64 space 7.5),
/// then the units are scaled to the plot's width. So a single page next to a 256 TiB gap stays
/// visible, order is kept, and every drawn range starts and ends exactly on a cut, where the
/// axis carries its address.
/// </summary>
internal sealed class AddressAxis
{
    public static readonly UInt128 SpaceEnd = (UInt128)1 << 64;

    private readonly UInt128[] _cuts;
    private readonly double[] _x;

    public double Left { get; }
    public double Right { get; }

    private AddressAxis(UInt128[] cuts, double[] x, double left, double right)
    {
        _cuts = cuts;
        _x = x;
        Left = left;
        Right = right;
    }

    /// <summary>The addresses where stretches begin and end, from 0 to 2^64.</summary>
    public IReadOnlyList<UInt128> Cuts => _cuts;

    public static AddressAxis Build(IEnumerable<AddrRange> ranges, double left, double width)
    {
        var cuts = new SortedSet<UInt128> { 0, SpaceEnd };
        foreach (var r in ranges)
        {
            cuts.Add(r.Start);
            cuts.Add(r.End);
        }
        var sorted = cuts.ToArray();
        var units = new double[sorted.Length];
        for (int i = 1; i < sorted.Length; i++)
            units[i] = units[i - 1] + Weight(sorted[i] - sorted[i - 1]);
        double scale = width / units[^1];
        var x = units.Select(u => left + u * scale).ToArray();
        return new AddressAxis(sorted, x, left, left + width);
    }

    /// <summary>Width units of a stretch of <paramref name="size"/> bytes: 1 for 4 KiB, one more
    /// for every 256-fold growth, at least one half.</summary>
    public static double Weight(UInt128 size) => Math.Max(0.5, 1 + (Log2(size) - 12) / 8);

    /// <summary>log2 from the integer's bits (top bit plus the next eight, linearly), so the
    /// picture does not depend on the platform's floating-point logarithm.</summary>
    public static double Log2(UInt128 value)
    {
        if (value == 0) return 0;
        int top = 127 - (int)UInt128.LeadingZeroCount(value);
        UInt128 below = value - ((UInt128)1 << top);
        int fraction = top >= 8 ? (int)(below >> (top - 8)) : (int)(below << (8 - top));
        return top + fraction / 256.0;
    }

    /// <summary>The x coordinate of an address in [0, 2^64]; linear inside a stretch.</summary>
    public double X(UInt128 address)
    {
        if (address >= SpaceEnd) return Right;
        int i = Array.BinarySearch(_cuts, address);
        if (i >= 0) return _x[i];
        int next = ~i;
        int prev = next - 1;
        // Exact rational position inside the stretch, then one rounding.
        UInt128 span = _cuts[next] - _cuts[prev];
        double fraction = (double)((address - _cuts[prev]) * 1024 / span) / 1024;
        return _x[prev] + (_x[next] - _x[prev]) * fraction;
    }

    public (double Left, double Right) Span(AddrRange range) => (X(range.Start), X(range.End));

    public static string Label(UInt128 address) => address >= SpaceEnd ? "2^64" : Hex.Format((ulong)address);
}
