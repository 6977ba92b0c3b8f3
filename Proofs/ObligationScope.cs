using DmaVerify.Proofs.Z3;

namespace DmaVerify.Proofs;

/// <summary>
/// What an obligation's body is written against. The same body is run twice: to prove
/// (inputs are Z3 variables, kernel calls are the lifted IL) and to execute a counterexample
/// (inputs are its numbers, kernel calls run the real method by reflection), so the property
/// proved and the property checked on the running code are one text.
/// </summary>
public abstract class ObligationScope(Z3Context z3, KernelSet kernels)
{
    public Z3Context Z3 { get; } = z3;
    public KernelSet Kernels { get; } = kernels;
    private readonly List<BoolTerm> _assumptions = [];

    public IReadOnlyList<BoolTerm> Assumptions => _assumptions;

    /// <summary>A universally quantified input (a counterexample gives it a value).</summary>
    public abstract BvTerm Input(string name, uint width);

    public abstract BoolTerm Flag(string name);

    /// <summary>A precondition: the obligation only speaks about inputs that satisfy it.</summary>
    public void Assume(BoolTerm condition) => _assumptions.Add(condition);

    /// <summary>The kernel of <paramref name="role"/> applied to <paramref name="args"/>
    /// (BoolTerm for bool parameters, BvTerm of the parameter width otherwise).</summary>
    public abstract Term Call(string role, params Term[] args);

    public BvTerm Bv(string role, params Term[] args) => (BvTerm)Call(role, args);

    public BoolTerm Bool(string role, params Term[] args) => (BoolTerm)Call(role, args);

    public BvTerm Num(ulong value, uint width = 64) => Z3.Bv(value, width);

    /// <summary>A numeral for an <c>int</c> parameter.</summary>
    public BvTerm Int(int value) => Z3.Bv(unchecked((ulong)value), 32);
}
