using DmaVerify.Proofs.Lifting;
using DmaVerify.Proofs.Z3;

namespace DmaVerify.Proofs.Running;

/// <summary>Inputs are Z3 variables; kernel calls are their IL lifted to terms.</summary>
internal sealed class ProvingScope(Z3Context z3, KernelSet kernels, IlLifter lifter) : ObligationScope(z3, kernels)
{
    private readonly List<(string Name, Term Var)> _inputs = [];

    public IReadOnlyList<(string Name, Term Var)> Inputs => _inputs;

    public override BvTerm Input(string name, uint width)
    {
        var v = Z3.BvVar(name, width);
        _inputs.Add((name, v));
        return v;
    }

    public override BoolTerm Flag(string name)
    {
        var v = Z3.BoolVar(name);
        _inputs.Add((name, v));
        return v;
    }

    public override Term Call(string role, params Term[] args) => lifter.Lift(Kernels[role], args);
}
