using DmaVerify.Contracts;
using DmaVerify.Model;
using FsCheck.Fluent;

namespace DmaVerify.Properties.Tests.Shrinking;

/// <summary>
/// What the shrinker relies on: after any ops are removed, <see cref="CaseSimulator.Rebuild"/>
/// gives a sequence in which every handle still names the mapping its target step created.
/// </summary>
public class RebuildTests
{
    [Theory]
    [InlineData(Presets.X86Vtd)]
    [InlineData(Presets.SocVcm)]
    [InlineData(Presets.K8Gart)]
    public void HandlesNameTheirTargetAfterAnyRemoval(string preset)
    {
        var cases = Gen.Sample(CaseGen.For(preset, new GenerationOptions()), 60, 12);
        int checkedHandles = 0;
        foreach (var (c, k) in cases.Select((c, k) => (c, k)))
        {
            // remove a different slice of each case
            int start = c.Ops.Count == 0 ? 0 : k * 7 % c.Ops.Count;
            var edited = c with
            {
                Ops = c.Ops.Where((_, i) => i < start || i >= start + 5)
                    .Select(o => o.Target is int t && t >= start ? o with { Target = t >= start + 5 ? t - 5 : -1 } : o)
                    .ToValueList(),
            };
            var rebuilt = CaseSimulator.Rebuild(edited);
            Assert.True(rebuilt.Ops.Count <= edited.Ops.Count);
            var sim = new CaseSimulator(rebuilt.BuildPlatform());
            for (int i = 0; i < rebuilt.Ops.Count; i++)
            {
                var op = rebuilt.Ops[i];
                if (op.Target is int t)
                {
                    Assert.InRange(t, 0, i - 1);
                    var target = sim.MappingMadeBy(t);
                    Assert.NotNull(target);
                    var handle = op.Op switch
                    {
                        Unmap u => u.Handle, UnmapSg u => u.Handle, FreeCoherent f => f.Handle,
                        UnmapResource u => u.Handle, DeviceAccess a => a.Address, _ => null,
                    };
                    var live = Assert.IsType<LiveRef>(handle);
                    Assert.Equal(target!.Id, sim.View.LiveMapping(target.Device, live.Index)?.Id);
                    checkedHandles++;
                }
                sim.Apply(op.Op, i);
            }
        }
        Assert.True(checkedHandles > 20, $"only {checkedHandles} handles checked");
    }

    [Fact]
    public void GenerationIsAPureFunctionOfTheSeed()
    {
        var a = CaseGen.Ops(Presets.AmdVi, ValueList<DeviceConfig>.Empty, OpKinds.All, 80, 40, 42, new GenerationOptions());
        var b = CaseGen.Ops(Presets.AmdVi, ValueList<DeviceConfig>.Empty, OpKinds.All, 80, 40, 42, new GenerationOptions());
        Assert.Equal(a.ToText(), b.ToText());
        Assert.NotEqual(a.ToText(), CaseGen.Ops(Presets.AmdVi, ValueList<DeviceConfig>.Empty, OpKinds.All, 80, 40, 43, new GenerationOptions()).ToText());
    }
}
