using DmaVerify.Contracts;
using DmaVerify.Model;
using FsCheck;
using FsCheck.Fluent;

namespace DmaVerify.Properties;

/// <summary>
/// Whole cases: extra devices, a swarm of op kinds, then the ops, each drawn from
/// <see cref="OpGen"/> against the model state the earlier ops left (the model runs alongside
/// generation, so handles name real mappings). The op loop draws from a seed FsCheck generated,
/// split once per op: a case is a pure function of FsCheck's (seed, gamma, size).
/// </summary>
public static class CaseGen
{
    private static readonly OpKinds[] SingleKinds =
        Enum.GetValues<OpKinds>().Where(k => k != OpKinds.None && (k & (k - 1)) == 0).ToArray();

    public static Gen<OpKinds> Swarm(GenerationOptions options)
    {
        var enabled = SingleKinds.Where(k => (options.Kinds & k) != 0).ToArray();
        if (!options.Swarm || enabled.Length == 0) return Gen.Constant(options.Kinds);
        return Gen.SubListOf(enabled).Select(subset =>
        {
            var kinds = subset.Aggregate(OpKinds.None, (a, k) => a | k);
            if ((kinds & OpKinds.Makers) == 0) kinds |= options.Kinds & OpKinds.Makers;
            return kinds == OpKinds.None ? OpKinds.Map : kinds;
        });
    }

    /// <summary>A case's free order and long-lived share (<see cref="CaseShape"/>).</summary>
    public static Gen<CaseShape> Shape(GenerationOptions options) => !options.Shapes
        ? Gen.Constant(CaseShape.Uniform)
        : from order in Gen.Elements(FreeOrder.Random, FreeOrder.Lifo, FreeOrder.Fifo, FreeOrder.ByDevice)
          from longLived in Gen.Elements(0, 0, 30, 70, 90)
          from salt in FsCheck.FSharp.Gen.Choose64(long.MinValue, long.MaxValue)
          select new CaseShape(order, longLived, (ulong)salt);

    public static Gen<PropertyCase> For(string preset, GenerationOptions options)
    {
        var platform = Presets.Get(preset);
        return Gen.Sized(size =>
            from devices in DeviceGen.Extra(platform, options.MaxExtraDevices)
            from swarm in Swarm(options)
            from shape in Shape(options)
            from seed in FsCheck.FSharp.Gen.Choose64(long.MinValue, long.MaxValue)
            select Ops(preset, devices, swarm, 1 + size * options.OpsPerSize, size, (ulong)seed, options, shape));
    }

    /// <summary>Generates <paramref name="count"/> ops against the model.</summary>
    public static PropertyCase Ops(string preset, ValueList<DeviceConfig> devices, OpKinds swarm, int count, int size, ulong seed, GenerationOptions options,
        CaseShape? shape = null)
    {
        shape ??= CaseShape.Uniform;
        var shell = new PropertyCase(preset, devices, swarm, ValueList<CaseOp>.Empty) { Shape = shape };
        var platform = shell.BuildPlatform();
        var sim = new CaseSimulator(platform);
        var gen = new OpGen(platform, options);
        ulong stream = seed;
        var ops = new List<CaseOp>(count);
        for (int step = 0; step < count; step++)
        {
            var drawn = Draw.One(gen.Next(sim, swarm, shape), size, ref stream);
            var op = sim.Resolve(drawn);
            if (op is null) continue;
            sim.Apply(op, ops.Count);
            ops.Add(drawn with { Op = op });
        }
        return shell with { Ops = ops.ToValueList() };
    }
}
