using System.Diagnostics;
using DmaVerify.Proofs.Lifting;
using DmaVerify.Proofs.Z3;

namespace DmaVerify.Proofs.Running;

/// <summary>
/// Proves an obligation on the lifted kernels: asserts the preconditions and the negated
/// property and asks Z3 for a model within the obligation's resource limit. A model is run on
/// the real kernels before it is reported, so a refutation always fails on the code itself.
/// </summary>
public static class Prover
{
    public static ProofOutcome Prove(Obligation obligation, KernelSet? kernels = null, string? smt2Directory = null)
    {
        kernels ??= KernelSet.Default;
        var clock = Stopwatch.StartNew();
        using var z3 = new Z3Context();
        using var lifter = new IlLifter(z3);
        var scope = new ProvingScope(z3, kernels, lifter);
        BoolTerm property;
        try { property = obligation.Body(scope); }
        catch (LiftRefusedException e) { return new(obligation, ProofStatus.NotLiftable, clock.Elapsed, 0, e.Message); }

        var query = z3.And([.. scope.Assumptions, !property]);
        string? smt2Path = null;
        if (smt2Directory is not null)
        {
            Directory.CreateDirectory(smt2Directory);
            smt2Path = Path.Combine(smt2Directory, $"{obligation.Id}.smt2");
            File.WriteAllText(smt2Path, $"; {obligation}\n; unsat means the obligation holds\n" + z3.ToSmtLib2(query, obligation.Id));
        }

        // QF_BV bit-blasts to SAT: fewer resource units than the default solver on these queries.
        using var solver = z3.NewSolver("QF_BV");
        solver.Assert(query);
        var answer = solver.Check(obligation.ResourceLimit);
        ulong used = solver.ResourceUsed;
        switch (answer)
        {
            case CheckResult.Unsat:
                return new(obligation, ProofStatus.Proved, clock.Elapsed, used, null) { Smt2Path = smt2Path };
            case CheckResult.Unknown:
                return new(obligation, ProofStatus.Unknown, clock.Elapsed, used, $"Z3: {solver.ReasonUnknown} (rlimit {obligation.ResourceLimit})") { Smt2Path = smt2Path };
        }

        var values = new Dictionary<string, ulong>();
        using (var model = solver.Model())
            foreach (var (name, variable) in scope.Inputs)
                values[name] = variable is BoolTerm b ? (model.Eval(b) ? 1UL : 0UL) : model.Eval((BvTerm)variable);
        var run = Execute(obligation, kernels, values);
        bool confirmed = run.PreconditionsHold && !run.Holds;
        return new(obligation, confirmed ? ProofStatus.Refuted : ProofStatus.LifterMismatch, clock.Elapsed, used,
            confirmed ? null : "Z3's counterexample does not fail when the kernels run: the lifted terms and the code disagree")
        {
            Counterexample = values, Execution = run, Smt2Path = smt2Path,
        };
    }

    /// <summary>Runs the obligation's body on <paramref name="values"/> with the real kernels.</summary>
    public static ExecutionReport Execute(Obligation obligation, KernelSet kernels, IReadOnlyDictionary<string, ulong> values)
    {
        using var z3 = new Z3Context();
        var scope = new ExecutingScope(z3, kernels, values);
        var property = obligation.Body(scope);
        bool Decide(BoolTerm t) => z3.Simplify(t).Literal ?? throw new InvalidOperationException($"{obligation.Id}: {t} is not concrete on the given inputs");
        return new(scope.Assumptions.All(Decide), Decide(property), scope.Calls);
    }

    public static ExecutionReport Execute(Obligation obligation, IReadOnlyDictionary<string, ulong> values) =>
        Execute(obligation, KernelSet.Default, values);
}
