using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Tests.Model;

public class SmokeTests
{
    [Fact]
    public void MapThenAccessThenUnmapOnEveryPreset()
    {
        foreach (var name in Presets.Names.Concat(Presets.Variants))
        {
            var platform = Presets.Get(name);
            var model = new ModelSystem(platform);
            foreach (var dev in platform.Devices)
            {
                ulong phys = platform.Ram[0].Start + 0x10_0000 + 0x123;
                var mapped = model.Apply(new Map(dev.Id, new PhysAddr(phys), 0x3000, DmaDirection.Bidirectional));
                Assert.True(mapped is Mapped, $"{name} dev {dev.Id}: {mapped}");
                var access = model.Apply(new DeviceAccess(dev.Id, new LiveRef(0, 0x10), 0x100, true));
                var accessed = Assert.IsType<Accessed>(access);
                Assert.True(phys + 0x10 == accessed.Chunks[0].Phys.Value || accessed.Chunks[0].Phys.Value != phys + 0x10 && model.State.Bounces.Count > 0, $"{name} dev {dev.Id}: {access} {mapped}");
                Assert.Equal(Done.Instance, model.Apply(new Unmap(dev.Id, new LiveRef(0), 0x3000, DmaDirection.Bidirectional)));
            }
        }
    }
}
