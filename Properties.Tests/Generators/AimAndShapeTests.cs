using DmaVerify.Contracts;

namespace DmaVerify.Properties.Tests.Generators;

/// <summary>
/// Aimed choices and case shapes: generated cases contain maps that fill the gap above the MSI
/// window for a 32-bit device (which uniform draws essentially never make), unmaps follow the
/// case's free order, and long-lived mappings stay while churn mappings can go.
/// </summary>
public class AimAndShapeTests
{
    private static PropertyCase Generate(GenerationOptions options, CaseShape shape, ulong seed, OpKinds kinds = OpKinds.Map | OpKinds.Unmap, int ops = 120) =>
        CaseGen.Ops(Presets.X86Vtd, ValueList<DeviceConfig>.Empty, kinds, ops, 40, seed, options with { MaxExtraDevices = 0 }, shape);

    /// <summary>The step after which no IOVA above x86's MSI window is free below 4 GiB in some
    /// DMA-API domain (the next 32-bit map must go below the window), or -1 when that never happens.</summary>
    private static int FillsAboveTheMsiWindow(PropertyCase c)
    {
        var sim = new CaseSimulator(c.BuildPlatform());
        for (int i = 0; i < c.Ops.Count; i++)
        {
            sim.Apply(c.Ops[i].Op, i);
            foreach (var domain in sim.View.AllDomains())
                if (domain.IsDmaApi && Model.Boundaries.NextGap(domain, 0xFFFF_FFFF) is not { Last: >= 0xFEF0_0000 })
                    return i;
        }
        return -1;
    }

    [Fact]
    public void AimedMapsFillTheSpaceAboveTheMsiWindowAndUniformOnesDoNot()
    {
        // [0xFEF00000, 0xFFFFFFFF] (17 MiB) fills only when maps fit what is left of it exactly.
        int Filled(GenerationOptions options) =>
            Enumerable.Range(1, 20).Count(s => FillsAboveTheMsiWindow(Generate(options, CaseShape.Uniform, (ulong)s)) >= 0);
        int aimed = Filled(new GenerationOptions()), uniform = Filled(new GenerationOptions { AimWeight = 0 });
        Assert.True(aimed >= 5, $"only {aimed} of 20 aimed cases filled the space above the MSI window");
        Assert.Equal(0, uniform);
    }

    /// <summary>Replays a case on the model and returns, for each unmap, the id of the mapping it
    /// took and the ids live at that moment.</summary>
    private static List<(int Taken, List<int> Live)> Frees(PropertyCase c)
    {
        var sim = new CaseSimulator(c.BuildPlatform());
        var frees = new List<(int, List<int>)>();
        for (int i = 0; i < c.Ops.Count; i++)
        {
            var op = c.Ops[i].Op;
            if (op is Unmap { Handle: LiveRef handle } unmap && sim.View.LiveMapping(unmap.Device, handle.Index) is { } m)
                frees.Add((m.Id, sim.View.AllMappings().Select(x => x.Id).ToList()));
            sim.Apply(op, i);
        }
        return frees;
    }

    [Theory]
    [InlineData(FreeOrder.Lifo)]
    [InlineData(FreeOrder.Fifo)]
    public void UnmapsFollowTheCasesFreeOrder(FreeOrder order)
    {
        var options = new GenerationOptions { RawAddressPercent = 0, AimWeight = 0 };
        var frees = Frees(Generate(options, new CaseShape(order, 0, 7), 3));
        Assert.True(frees.Count > 10, $"only {frees.Count} unmaps");
        foreach (var (taken, live) in frees)
            Assert.Equal(order == FreeOrder.Lifo ? live.Max() : live.Min(), taken);
    }

    [Fact]
    public void LongLivedMappingsStayWhileChurnMappingsCanGo()
    {
        var shape = new CaseShape(FreeOrder.Random, 70, 99);
        var options = new GenerationOptions { RawAddressPercent = 0, AimWeight = 0 };
        var frees = Frees(Generate(options, shape, 5, ops: 200));
        Assert.True(frees.Count > 10, $"only {frees.Count} unmaps");
        foreach (var (taken, live) in frees)
            if (live.Any(id => !shape.IsLongLived(id)))
                Assert.False(shape.IsLongLived(taken), $"long-lived mapping {taken} went while churn ones were live");
        Assert.Contains(Enumerable.Range(0, 200), shape.IsLongLived);
        Assert.Contains(Enumerable.Range(0, 200), id => !shape.IsLongLived(id));
    }
}
