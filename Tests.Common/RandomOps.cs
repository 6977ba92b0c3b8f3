using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Tests.Common;

/// <summary>A small generator of plausible ops over live state (handles, RAM buffers, windows).</summary>
public sealed class RandomOps(PlatformConfig platform, Random random)
{
    private static readonly DmaDirection[] Directions = [DmaDirection.ToDevice, DmaDirection.FromDevice, DmaDirection.Bidirectional];

    public Op Next(SystemState state)
    {
        var device = platform.Devices[random.Next(platform.Devices.Count)];
        int live = state.MappingsOf(device.Id).Count();
        var dir = Directions[random.Next(Directions.Length)];
        int pick = random.Next(100);
        if (live > 0 && pick < 30)
        {
            var mapping = state.MappingsOf(device.Id).ElementAt(random.Next(live));
            int index = state.MappingsOf(device.Id).ToList().IndexOf(mapping);
            return random.Next(6) switch
            {
                0 => new DeviceAccess(device.Id, new LiveRef(index, (ulong)random.NextInt64(0, (long)Math.Max(1, mapping.Size))), 4, random.Next(2) == 0),
                _ => mapping.Kind switch
                {
                    MappingKind.Single => new Unmap(device.Id, new LiveRef(index), mapping.Size, mapping.Direction),
                    MappingKind.Sg => new UnmapSg(device.Id, new LiveRef(index), mapping.Nents, mapping.Direction),
                    MappingKind.Coherent => new FreeCoherent(device.Id, new LiveRef(index), mapping.Size),
                    _ => new UnmapResource(device.Id, new LiveRef(index), mapping.Size, mapping.Direction),
                },
            };
        }
        if (live > 0 && pick < 36)
        {
            // misuse: wrong size, wrong direction, wrong function or a raw stale handle
            var mapping = state.MappingsOf(device.Id).First();
            return random.Next(4) switch
            {
                0 => new Unmap(device.Id, new LiveRef(0), mapping.Size + 1, mapping.Direction),
                1 => new Unmap(device.Id, new LiveRef(0), mapping.Size, DmaDirection.None),
                2 => new FreeCoherent(device.Id, new LiveRef(0), mapping.Size),
                _ => new Unmap(device.Id, new RawRef(mapping.Dma.Value + 0x1000), 0x1000, dir),
            };
        }
        if (pick < 40) return new Tick((ulong)random.Next(0, 15));
        if (pick < 43 && state.Device(device.Id)?.Domain is int domain) return new Flush(domain);
        if (pick < 46) return new DeviceAccess(device.Id, new RawRef(RamAddress(0x1000)), 8, random.Next(2) == 0);
        if (pick < 49 && platform.Mmio.Count > 0)
        {
            var mmio = platform.Mmio[random.Next(platform.Mmio.Count)];
            return new SetupMsi(device.Id, new PhysAddr(mmio.Start + (ulong)random.Next(0, 4) * 0x40));
        }
        if (pick < 52 && platform.Mmio.Count > 0)
        {
            var mmio = platform.Mmio[random.Next(platform.Mmio.Count)];
            return new MapResource(device.Id, new PhysAddr(mmio.Start + (ulong)random.Next(0, 16) * 0x1000), 0x1000, dir);
        }
        if (pick < 56) return new AllocCoherent(device.Id, new PhysAddr(RamAddress(0x4000) & ~0xFFFUL), (ulong)random.Next(1, 5) * 0x1000);
        if (pick < 70)
        {
            int n = random.Next(1, 5);
            var segs = Enumerable.Range(0, n).Select(_ => new SgEntry(new PhysAddr(RamAddress(0x4000)), (ulong)random.Next(1, 9) * 0x200)).ToValueList();
            return new MapSg(device.Id, segs, dir);
        }
        ulong len = random.Next(4) == 0 ? (ulong)random.Next(1, 0x100) : (ulong)random.Next(1, 17) * 0x400;
        return new Map(device.Id, new PhysAddr(RamAddress(len)), len, dir);
    }

    /// <summary>An address in one of the platform's RAM ranges with room for <paramref name="length"/> bytes.</summary>
    private ulong RamAddress(ulong length)
    {
        var ram = platform.Ram[random.Next(platform.Ram.Count)];
        ulong span = Math.Min((ulong)(ram.Size - length), 0x4000_0000UL);
        ulong offset = (ulong)random.NextInt64(0, (long)span);
        // Bias towards the ends of RAM ranges (4 GiB edges, apertures, windows) now and then.
        if (random.Next(4) == 0) offset = (ulong)(ram.Size - length) - (offset & 0xFFFF);
        return ram.Start + offset;
    }
}
