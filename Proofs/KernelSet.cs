using System.Reflection;
using DmaVerify.Optimized.Dma.Kernels;
using DmaVerify.Optimized.Iova;
using DmaVerify.Optimized.PageTables;

namespace DmaVerify.Proofs;

/// <summary>
/// The kernels obligations talk about, by role ("DmaWindow.IsCapable"). <see cref="Default"/>
/// is the code that runs in Optimized/; a test swaps a role for a planted variant to show the
/// obligation refutes it.
/// </summary>
public sealed class KernelSet
{
    private readonly Dictionary<string, MethodInfo> _methods;

    private KernelSet(Dictionary<string, MethodInfo> methods) => _methods = methods;

    public static KernelSet Default { get; } = new(new[]
    {
        typeof(DmaWindow), typeof(SgRules), typeof(IovaFit), typeof(MagazineRules), typeof(PageSizeRule), typeof(Bits),
        typeof(VtdSsPte), typeof(AmdV1Pte), typeof(LpaePte), typeof(GartPte), typeof(TcePte),
    }.SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static).Select(m => (Role: $"{t.Name}.{m.Name}", Method: m)))
     .GroupBy(p => p.Role).Where(g => g.Count() == 1) // overloads have no single role
     .ToDictionary(g => g.Key, g => g.Single().Method));

    public MethodInfo this[string role] =>
        _methods.TryGetValue(role, out var m) ? m : throw new KeyNotFoundException($"no kernel for role {role}");

    public IEnumerable<string> Roles => _methods.Keys;

    /// <summary>This set with <paramref name="role"/> played by <paramref name="method"/> (same signature).</summary>
    public KernelSet With(string role, MethodInfo method)
    {
        var current = this[role];
        var want = current.GetParameters().Select(p => p.ParameterType).Append(current.ReturnType);
        var have = method.GetParameters().Select(p => p.ParameterType).Append(method.ReturnType);
        if (!method.IsStatic || !want.SequenceEqual(have))
            throw new ArgumentException($"{method.DeclaringType?.Name}.{method.Name} does not have the signature of {role}");
        return new(new Dictionary<string, MethodInfo>(_methods) { [role] = method });
    }

    /// <summary>Roles whose method differs from <see cref="Default"/>'s.</summary>
    public IEnumerable<(string Role, MethodInfo Method)> Overrides =>
        _methods.Where(p => Default._methods[p.Key] != p.Value).Select(p => (p.Key, p.Value));
}
