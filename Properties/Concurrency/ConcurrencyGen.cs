using DmaVerify.Contracts;
using DmaVerify.Model;
using FsCheck;
using FsCheck.Fluent;

namespace DmaVerify.Properties;

/// <summary>
/// Small concurrent histories: 2–3 threads of 1–3 calls (map, unmap, device access) on the
/// given devices, after a setup of 0–3 maps. Every map of a case has one length and direction,
/// so an unmap of "#0" is well-formed whichever mapping is the device's first when it runs;
/// each map uses its own physical buffer, so accesses show which mapping they reached.
/// </summary>
public static class ConcurrencyGen
{
    public static Gen<ConcurrencyCase> For(string preset, IReadOnlyList<int> devices)
    {
        var platform = Presets.Get(preset);
        ulong ramBase = (platform.Ram[0].Start + 0x100_0000) & ~0xFFFFUL;
        var shape =
            from len in Gen.Elements(0x1000UL, 0x3000UL)
            from dir in Gen.Elements(DmaDirection.ToDevice, DmaDirection.FromDevice, DmaDirection.Bidirectional)
            from setup in Gen.Choose(0, 3)
            from threads in Gen.Choose(2, 3)
            from lengths in Gen.ArrayOf(Gen.Choose(1, 3), threads)
            select (len, dir, setup, lengths);
        return shape.SelectMany(s =>
        {
            int slot = 0;
            Gen<Op> Call(int device) => Gen.Frequency(
                (3, Gen.Fresh(() => (Op)new Map(device, new PhysAddr(ramBase + (ulong)Interlocked.Increment(ref slot) * 0x10000), s.len, s.dir))),
                (2, Gen.Choose(0, 1).Select(i => (Op)new Unmap(device, new LiveRef(i), s.len, s.dir))),
                (2, from i in Gen.Choose(0, 2)
                    from off in Gen.Choose(0, (int)s.len - 4)
                    select (Op)new DeviceAccess(device, new LiveRef(i, (ulong)off), 4, s.dir == DmaDirection.FromDevice)));
            var setup = Enumerable.Range(0, s.setup)
                .Select(k => (Op)new Map(devices[k % devices.Count], new PhysAddr(ramBase + 0x1000_0000 + (ulong)k * 0x10000), s.len, s.dir))
                .ToValueList();
            var threadGens = s.lengths.Select((count, t) => Gen.ArrayOf(Call(devices[t % devices.Count]), count).Select(a => a.ToValueList())).ToArray();
            return threadGens.Aggregate(Gen.Constant(ValueList<ValueList<Op>>.Empty),
                    (acc, g) => from list in acc from ops in g select list.Append(ops).ToValueList())
                .Select(threads => new ConcurrencyCase(preset, setup, threads));
        });
    }
}
