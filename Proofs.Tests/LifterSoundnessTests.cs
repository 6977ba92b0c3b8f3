using System.Reflection;
using DmaVerify.Proofs;
using DmaVerify.Proofs.Lifting;
using DmaVerify.Proofs.Z3;

namespace DmaVerify.Tests.ProofTests;

/// <summary>
/// Lifter soundness: for every kernel an obligation uses, edge values and random inputs run in
/// .NET agree with Z3's evaluation of the lifted term. 10^4 inputs per kernel with
/// DMAVERIFY_SOUNDNESS_SAMPLES=10000 (docs/proofs.md); 1000 by default to fit the test budget.
/// </summary>
public sealed class LifterSoundnessTests
{
    private static readonly int Samples =
        int.TryParse(Environment.GetEnvironmentVariable("DMAVERIFY_SOUNDNESS_SAMPLES"), out int n) && n > 0 ? n : 1000;

    /// <summary>Parameters that must be known at lift time (the code divides by them), pinned to the values the obligations use.</summary>
    private static readonly Dictionary<string, ulong[]> PinnedGranule = new() { ["granuleShift"] = [12, 14, 16] };

    private static readonly Dictionary<string, Dictionary<string, ulong[]>> Pinned = new()
    {
        ["LpaePte.Levels"] = PinnedGranule,
        ["LpaePte.TopIndexBits"] = PinnedGranule,
        ["LpaePte.LeafLevel"] = PinnedGranule,
    };

    private static readonly ulong[] Edges =
    [
        0, 1, 2, 3, 0xFFF, 0x1000, 0x1FF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 1UL << 32,
        (1UL << 63) - 1, 1UL << 63, (1UL << 63) + 1, ulong.MaxValue - 1, ulong.MaxValue,
    ];

    public static TheoryData<string> Roles()
    {
        var data = new TheoryData<string>();
        var roles = ObligationCatalog.All.Concat(ObligationCatalog.Extended).SelectMany(o => o.Kernels);
        foreach (var role in roles.Distinct().Order(StringComparer.Ordinal)) data.Add(role);
        return data;
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void Lifted_term_agrees_with_execution(string role)
    {
        var method = KernelSet.Default[role];
        var parameters = method.GetParameters();
        var pinned = Pinned.GetValueOrDefault(role) ?? [];
        var combos = parameters.Aggregate(new List<ulong?[]> { new ulong?[parameters.Length] }, (acc, p) =>
            pinned.TryGetValue(p.Name!, out var values)
                ? acc.SelectMany(c => values.Select(v => { var n = (ulong?[])c.Clone(); n[p.Position] = v; return n; })).ToList()
                : acc);
        var random = new Random(role.Sum(c => c * 31));
        int perCombo = Samples / combos.Count;

        foreach (var combo in combos)
        {
            using var z3 = new Z3Context();
            using var lifter = new IlLifter(z3);
            var vars = parameters.Select(p => combo[p.Position] is ulong v ? Numeral(z3, p.ParameterType, v) : Variable(z3, p)).ToArray();
            var term = lifter.Lift(method, vars);
            for (int i = 0; i < perCombo; i++)
            {
                var values = parameters.Select(p => combo[p.Position] ?? (i < Edges.Length * 2 ? Edges[(i + p.Position) % Edges.Length] : Draw(random))).ToArray();
                var args = parameters.Select(p => ToClr(p.ParameterType, values[p.Position])).ToArray();
                ulong expected = FromClr(method.Invoke(null, args)!, KernelType.Of(method.ReturnType)!.Value.Width);
                using var model = z3.NewModel();
                foreach (var p in parameters.Where(p => combo[p.Position] is null))
                    model.Set(vars[p.Position], Numeral(z3, p.ParameterType, values[p.Position]));
                ulong lifted = term is BoolTerm b ? (model.Eval(b) ? 1UL : 0UL) : model.Eval((BvTerm)term);
                if (lifted != expected)
                    Assert.Fail($"{role}({string.Join(", ", args)}): .NET gives 0x{expected:X}, the lifted term 0x{lifted:X}");
            }
        }
    }

    private static ulong Draw(Random r) => r.Next(10) switch
    {
        < 2 => Edges[r.Next(Edges.Length)],
        < 4 => (ulong)r.Next(0, 72),                                   // shift counts, levels, small sizes
        < 6 => (ulong)r.NextInt64() << r.Next(0, 52) >> r.Next(0, 52), // odd bit spans
        _ => (ulong)r.NextInt64() ^ ((ulong)r.Next(2) << 63),
    };

    private static Term Variable(Z3Context z3, ParameterInfo p) =>
        p.ParameterType == typeof(bool) ? z3.BoolVar(p.Name!) : z3.BvVar(p.Name!, KernelType.Of(p.ParameterType)!.Value.Width);

    private static Term Numeral(Z3Context z3, Type type, ulong v) =>
        type == typeof(bool) ? z3.Bool((v & 1) != 0) : z3.Bv(v, KernelType.Of(type)!.Value.Width);

    private static object ToClr(Type type, ulong v) => Type.GetTypeCode(type) switch
    {
        TypeCode.Boolean => (v & 1) != 0,
        TypeCode.Int32 => unchecked((int)v),
        TypeCode.UInt32 => (uint)v,
        TypeCode.Int64 => unchecked((long)v),
        TypeCode.UInt64 => v,
        _ => throw new ArgumentException($"no sampler for {type}"),
    };

    private static ulong FromClr(object o, uint width)
    {
        ulong v = o switch { bool b => b ? 1UL : 0UL, int x => unchecked((ulong)x), uint x => x, long x => unchecked((ulong)x), ulong x => x, _ => throw new ArgumentException($"{o}") };
        return width >= 64 ? v : v & ((1UL << (int)width) - 1);
    }
}
