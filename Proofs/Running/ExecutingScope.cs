using System.Globalization;
using System.Reflection;
using DmaVerify.Proofs.Z3;

namespace DmaVerify.Proofs.Running;

/// <summary>
/// Inputs are the numbers of one assignment; kernel calls run the real methods (reflection)
/// on them, and their results enter the property as numerals.
/// </summary>
internal sealed class ExecutingScope(Z3Context z3, KernelSet kernels, IReadOnlyDictionary<string, ulong> values) : ObligationScope(z3, kernels)
{
    private readonly List<string> _calls = [];

    /// <summary>Each kernel call made, as "Type.Method(args) = result".</summary>
    public IReadOnlyList<string> Calls => _calls;

    public override BvTerm Input(string name, uint width) => Z3.Bv(values.GetValueOrDefault(name), width);

    public override BoolTerm Flag(string name) => Z3.Bool(values.GetValueOrDefault(name) != 0);

    public override Term Call(string role, params Term[] args)
    {
        var method = Kernels[role];
        var parameters = method.GetParameters();
        var actual = new object[args.Length];
        for (int i = 0; i < args.Length; i++)
            actual[i] = ToClr(parameters[i].ParameterType, Value(args[i], $"argument {parameters[i].Name} of {role}"));
        object result;
        try { result = method.Invoke(null, actual)!; }
        catch (TargetInvocationException e) { throw new InvalidOperationException($"{role} threw {e.InnerException?.GetType().Name}: {e.InnerException?.Message}", e.InnerException); }
        _calls.Add($"{method.DeclaringType!.FullName}.{method.Name}({string.Join(", ", actual.Select(Show))}) = {Show(result)}");
        return result is bool b ? Z3.Bool(b) : Z3.Bv(FromClr(result), Lifting.KernelType.Of(method.ReturnType)!.Value.Width);
    }

    private ulong Value(Term t, string what) => Z3.Simplify(t) switch
    {
        BoolTerm b => b.Literal is bool v ? (v ? 1UL : 0UL) : throw new InvalidOperationException($"{what} is not concrete"),
        BvTerm bv => bv.Numeral ?? throw new InvalidOperationException($"{what} is not concrete"),
        _ => throw new InvalidOperationException(what),
    };

    internal static object ToClr(Type type, ulong v) => Type.GetTypeCode(type) switch
    {
        TypeCode.Boolean => v != 0,
        TypeCode.Byte => (byte)v,
        TypeCode.SByte => unchecked((sbyte)v),
        TypeCode.Int16 => unchecked((short)v),
        TypeCode.UInt16 => (ushort)v,
        TypeCode.Char => (char)v,
        TypeCode.Int32 => unchecked((int)v),
        TypeCode.UInt32 => (uint)v,
        TypeCode.Int64 => unchecked((long)v),
        TypeCode.UInt64 => v,
        _ => throw new ArgumentException($"kernel parameter type {type} is not an integer or bool"),
    };

    internal static ulong FromClr(object o) => o switch
    {
        bool b => b ? 1UL : 0UL,
        byte x => x, sbyte x => unchecked((ulong)x), short x => unchecked((ulong)x), ushort x => x, char x => x,
        int x => unchecked((ulong)x), uint x => x, long x => unchecked((ulong)x), ulong x => x,
        _ => throw new ArgumentException($"kernel result {o} is not an integer or bool"),
    };

    internal static string Show(object o) => o switch
    {
        bool b => b ? "true" : "false",
        int x => x.ToString(CultureInfo.InvariantCulture),
        ulong or uint or long => $"0x{FromClr(o):X}",
        _ => Convert.ToString(o, CultureInfo.InvariantCulture) ?? "?",
    };
}
