using DmaVerify.Contracts;
using DmaVerify.Model;
using FsCheck;
using FsCheck.Fluent;

namespace DmaVerify.Properties;

/// <summary>Buffers inside the platform's RAM and MMIO, biased towards the places where DMA code
/// breaks: the ends of RAM ranges, the last byte of a device's DMA limit, superpage alignment.</summary>
public static class BufferGen
{
    public const ulong Page = 0x1000, Superpage = 0x20_0000;

    /// <summary>Buffer lengths: sub-page, sub-page multiples, pages, and now and then 2–4 MiB.</summary>
    public static Gen<ulong> Length { get; } = Gen.Frequency(
        (3, Gen.Choose(1, 0x100).Select(v => (ulong)v)),
        (4, Gen.Choose(1, 64).Select(v => (ulong)v * 0x200)),
        (6, Gen.Choose(1, 16).Select(v => (ulong)v * Page)),
        (1, Gen.Choose(512, 1100).Select(v => (ulong)v * Page)));

    /// <summary>Addresses a buffer may end on: DMA limits of every device, 4 GiB, the RAM ends.</summary>
    public static IReadOnlyList<ulong> Edges(PlatformConfig platform) =>
        platform.Devices.SelectMany(d => new[] { d.DmaMask, d.CoherentMask, d.BusDmaLimit })
            .Append(0xFFFF_FFFFUL)
            .Concat(platform.Ram.Select(r => r.Last))
            .Where(e => e != 0 && e != ulong.MaxValue)
            .Distinct().Order().ToArray();

    /// <summary>A physical buffer of <paramref name="length"/> bytes inside one RAM range.</summary>
    public static Gen<PhysAddr> Ram(PlatformConfig platform, IReadOnlyList<ulong> edges, ulong length)
    {
        var fits = platform.Ram.Where(r => r.Size >= length).ToArray();
        if (fits.Length == 0) return Gen.Constant(new PhysAddr(platform.Ram[0].Start));
        return Gen.Elements(fits).SelectMany(ram => Inside(ram, edges, length)).Select(p => new PhysAddr(p));
    }

    /// <summary>An MMIO buffer (peer-to-peer resources, MSI doorbells).</summary>
    public static Gen<PhysAddr> Mmio(PlatformConfig platform, ulong length)
    {
        var fits = platform.Mmio.Where(r => r.Size >= length).ToArray();
        if (fits.Length == 0) return Gen.Constant(new PhysAddr(0xC000_0000));
        return from r in Gen.Elements(fits)
               from page in Gen.Choose(0, 63)
               select new PhysAddr(r.Start + (ulong)page * Page);
    }

    private static ulong AlignUp(ulong value, ulong alignment) => (value + alignment - 1) & ~(alignment - 1);

    private static Gen<ulong> Inside(AddrRange ram, IReadOnlyList<ulong> edges, ulong length)
    {
        ulong lastStart = ram.Last - (length - 1);
        ulong span = Math.Min(lastStart - ram.Start, 0x4000_0000UL);
        var endingOnEdge = edges.Where(e => e >= ram.Start + length - 1 && e <= ram.Last).Select(e => e - (length - 1)).ToArray();
        var choices = new List<(int, Gen<ulong>)>
        {
            (6, Draw.Between(0, span).Select(o => ram.Start + o)),
            (4, Draw.Between(0, span / Page).Select(o => ram.Start + o * Page)),
            (1, Gen.Constant(ram.Start)),
            (1, Gen.Constant(lastStart)),
            (1, Draw.Between(0, span / Superpage).Select(o => AlignUp(ram.Start, Superpage) + o * Superpage).Select(a => a > lastStart ? ram.Start : a)),
        };
        if (endingOnEdge.Length > 0) choices.Add((2, Gen.Elements(endingOnEdge)));
        return Gen.Frequency(choices.ToArray());
    }
}
