using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Tests.Dma;

/// <summary>Large maps with few unmaps drive the small windows (GART aperture, swiotlb pool,
/// 32-bit IOVA space of PCI devices) to exhaustion: every OutOfIova / NoBounceBuffer answer
/// must be exact (INV-11: the model finds no fit either), and space freed is found again.</summary>
public class ExhaustionTests
{
    public const int Ops = 600;

    [Theory]
    [MemberData(nameof(PresetData.All), MemberType = typeof(PresetData))]
    public void FullWindowsFailExactly(string preset)
    {
        var platform = Presets.Get(preset);
        var run = new SideBySide(preset + " (exhaustion)", platform);
        var random = new Random(31337 + preset.Length);
        int exhausted = 0;
        DmaDirection[] dirs = [DmaDirection.ToDevice, DmaDirection.FromDevice, DmaDirection.Bidirectional];
        for (int step = 0; step < Ops; step++)
        {
            var device = platform.Devices[random.Next(platform.Devices.Count)];
            var live = run.Model.State.MappingsOf(device.Id).ToList();
            // Half the buffers come from the second RAM range (above 4 GiB on x86): they need remapping or bouncing.
            var ram = platform.Ram.Count > 1 && random.Next(2) == 0 ? platform.Ram[1] : platform.Ram[random.Next(platform.Ram.Count)];
            ulong span = Math.Min((ulong)(ram.Size - 0x10_0000), 0x1_0000_0000UL);
            ulong phys = ram.Start + ((ulong)random.NextInt64(0, (long)span) & ~0xFFFUL) + (random.Next(4) == 0 ? (ulong)random.Next(0, 0x1000) : 0);
            var dir = dirs[random.Next(dirs.Length)];
            int pick = random.Next(100);
            Op op;
            if (live.Count > 0 && pick < 8)
            {
                int index = random.Next(live.Count);
                var m = live[index];
                op = m.Kind switch
                {
                    MappingKind.Sg => new UnmapSg(device.Id, new LiveRef(index), m.Nents, m.Direction),
                    MappingKind.Coherent => new FreeCoherent(device.Id, new LiveRef(index), m.Size),
                    MappingKind.Resource => new UnmapResource(device.Id, new LiveRef(index), m.Size, m.Direction),
                    _ => new Unmap(device.Id, new LiveRef(index), m.Size, m.Direction),
                };
            }
            else if (pick < 12) op = new Tick((ulong)random.Next(0, 20));
            else if (pick < 45)
            {
                ulong page = phys & ~0xFFFUL;
                var entries = Enumerable.Range(0, random.Next(2, 6)).Select(i => new SgEntry(new PhysAddr(page + (ulong)i * 0x1_0000), 0x1_0000)).ToValueList();
                op = new MapSg(device.Id, entries, dir);
            }
            else
            {
                ulong len = random.Next(3) == 0 ? (ulong)random.Next(1, 0x4_0000) : 0x4_0000;
                op = new Map(device.Id, new PhysAddr(phys), len, dir);
            }
            if (run.Step(op) is Failed { Kind: DmaErrorKind.OutOfIova or DmaErrorKind.NoBounceBuffer }) exhausted++;
            if (step % 100 == 99) run.CheckInvariants();
        }
        run.CheckInvariants();
        _ = exhausted;
    }

    /// <summary>Fills one small window with 256 KiB maps until it refuses, frees one map and
    /// maps again: GART aperture (64 MiB) for the 32-bit NIC, swiotlb pool (64 MiB) for the
    /// 32-bit SATA controller on dma-direct.</summary>
    [Theory]
    [InlineData("k8-gart", 0, DmaErrorKind.OutOfIova)]
    [InlineData("direct", 1, DmaErrorKind.NoBounceBuffer)]
    public void FillingAWindowFailsExactlyWhenFull(string preset, int device, DmaErrorKind expected)
    {
        var platform = Presets.Get(preset);
        var run = new SideBySide(preset + " (fill)", platform);
        ulong high = platform.Ram.First(r => r.Start >= 0x1_0000_0000).Start;
        int mapped = 0;
        Outcome last = Done.Instance;
        for (int i = 0; i < 400; i++)
        {
            last = run.Step(new Map(device, new PhysAddr(high + (ulong)i * 0x4_0000), 0x4_0000, DmaDirection.ToDevice));
            if (!last.IsSuccess) break;
            mapped++;
        }
        Assert.True(last is Failed f && f.Kind == expected, $"{preset}: after {mapped} maps the answer is {last}");
        Assert.True(mapped > 0);
        run.CheckInvariants();
        run.Step(new Unmap(device, new LiveRef(mapped / 2), 0x4_0000, DmaDirection.ToDevice));
        Assert.True(run.Step(new Map(device, new PhysAddr(high), 0x4_0000, DmaDirection.ToDevice)).IsSuccess);
        run.CheckInvariants();
    }
}
