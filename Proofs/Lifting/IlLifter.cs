using System.Reflection;
using DmaVerify.Proofs.Z3;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace DmaVerify.Proofs.Lifting;

/// <summary>
/// Turns a static method of integer and boolean arithmetic into a Z3 term with exactly the
/// .NET semantics: wrap-around arithmetic, shift counts masked to the operand width, signed and
/// unsigned comparisons and conversions, division only by non-zero constants (and signed
/// division not by −1, which can throw). Branches are explored symbolically and joined where
/// they meet; calls to other DmaVerify methods are inlined; loops are unrolled and must be
/// decided by values known at lift time (a constant bound). Everything else is refused with a
/// <see cref="LiftRefusedException"/> naming the method, IL offset and opcode.
/// </summary>
public sealed class IlLifter(Z3Context z3) : IDisposable
{
    private readonly CecilLoader _loader = new();
    private int _steps;

    /// <summary>IL instructions executed per top-level lift before a loop is declared unbounded.</summary>
    public int MaxSteps { get; init; } = 400_000;

    /// <summary>How deep inlined calls may nest (recursion is refused by this).</summary>
    public int MaxCallDepth { get; init; } = 16;

    public Z3Context Context => z3;

    /// <summary>
    /// The term for <paramref name="method"/> applied to <paramref name="args"/>: a
    /// <see cref="BoolTerm"/> argument for each bool parameter, a <see cref="BvTerm"/> of the
    /// parameter's width (8/16/32/64) otherwise. Returns a BoolTerm for a bool method, else a
    /// BvTerm of the return type's width.
    /// </summary>
    public Term Lift(MethodInfo method, params Term[] args)
    {
        _steps = 0;
        return Lift(_loader.Definition(method), args, 0);
    }

    internal Term Lift(MethodDefinition method, IReadOnlyList<Term> args, int depth)
    {
        string name = Name(method);
        Refuse Fail(int offset, string op) => reason => throw new LiftRefusedException(name, offset, op, reason);
        if (!method.IsStatic) Fail(0, "-")("only static methods are lifted");
        if (!method.HasBody) Fail(0, "-")("it has no IL body");
        if (method.HasGenericParameters) Fail(0, "-")("generic methods are not lifted");
        if (method.Body.HasExceptionHandlers) Fail(0, "-")("exception handlers are not lifted");
        if (depth > MaxCallDepth) Fail(0, "call")($"calls nest deeper than {MaxCallDepth} (recursion?)");
        var returnType = KernelType.Of(method.ReturnType) ?? throw new LiftRefusedException(name, 0, "-", $"return type {method.ReturnType.FullName} is not an integer or bool");
        if (args.Count != method.Parameters.Count) Fail(0, "-")($"{method.Parameters.Count} parameters, {args.Count} arguments given");

        var argValues = new BvTerm[args.Count];
        for (int i = 0; i < args.Count; i++)
        {
            var p = method.Parameters[i];
            var type = KernelType.Of(p.ParameterType);
            if (type is null || p.ParameterType.IsByReference) Fail(0, "-")($"parameter {p.Name} of type {p.ParameterType.FullName} is not an integer or bool");
            argValues[i] = Storage(type!.Value, args[i], $"argument {p.Name} of {name}");
        }
        var locals = method.Body.Variables.Select(v =>
            KernelType.Of(v.VariableType) is { } t ? z3.Bv(0, t.Width)
                : throw new LiftRefusedException(name, 0, "-", $"local {v.Index} of type {v.VariableType.FullName} is not an integer or bool")).ToArray();

        var result = new MethodRun(this, method, name, depth).Run(new LiftState { Args = argValues, Locals = locals, Stack = [] });
        return FromStack(returnType, result);
    }

    internal delegate void Refuse(string reason);

    internal static string Name(MethodReference m) => $"{m.DeclaringType.FullName}.{m.Name}";

    /// <summary>A caller's value at a parameter's storage width (bools as 0/1 bytes).</summary>
    private BvTerm Storage(KernelType type, Term value, string what)
    {
        if (type.IsBool)
            return value is BoolTerm b ? b.ToBv(8) : throw new ArgumentException($"{what}: a bool parameter takes a BoolTerm");
        if (value is not BvTerm bv || bv.Width != type.Width)
            throw new ArgumentException($"{what}: expected a {type.Width}-bit BvTerm, got {value}");
        return bv;
    }

    /// <summary>A returned stack slot as the declared type: bool as "non-zero", small types truncated.</summary>
    private static Term FromStack(KernelType type, BvTerm slot) =>
        type.IsBool ? slot != 0UL : slot.Resize(type.Width);

    /// <summary>A value of a declared type widened to its IL stack slot.</summary>
    internal static BvTerm ToStack(KernelType type, BvTerm stored) => stored.Resize(type.StackWidth, type.Signed);

    internal void Step(string method, int offset, string op)
    {
        if (++_steps > MaxSteps)
            throw new LiftRefusedException(method, offset, op, $"more than {MaxSteps} IL steps: a loop without a constant bound?");
    }

    /// <summary>Lifts a call target, which must be a static method of a DmaVerify assembly.</summary>
    internal Term LiftCall(MethodReference target, IReadOnlyList<BvTerm> stackArgs, int depth, Refuse fail)
    {
        MethodDefinition? def;
        try { def = target.Resolve(); }
        catch (AssemblyResolutionException) { def = null; }
        if (def is null) { fail($"cannot resolve the callee {target.FullName}"); return null!; }
        if (!def.Module.Assembly.Name.Name.StartsWith("DmaVerify", StringComparison.Ordinal))
            fail($"calls {Name(def)}, which is outside DmaVerify's kernels");
        var args = new Term[stackArgs.Count];
        for (int i = 0; i < args.Length; i++)
        {
            var type = KernelType.Of(def.Parameters[i].ParameterType);
            if (type is null) { fail($"callee {Name(def)} takes a {def.Parameters[i].ParameterType.FullName}"); return null!; }
            args[i] = type.Value.IsBool ? stackArgs[i] != 0UL : stackArgs[i].Resize(type.Value.Width, type.Value.Signed);
        }
        return Lift(def, args, depth + 1);
    }

    public void Dispose() => _loader.Dispose();
}
