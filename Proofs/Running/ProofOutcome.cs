namespace DmaVerify.Proofs.Running;

public enum ProofStatus
{
    /// <summary>Z3 showed no input violates the property (the negation is unsatisfiable).</summary>
    Proved,
    /// <summary>Z3 found an input that violates it, and running the kernel on it confirms.</summary>
    Refuted,
    /// <summary>The resource limit ran out, or Z3 could not decide.</summary>
    Unknown,
    /// <summary>A kernel could not be lifted (method, IL offset and opcode in the message).</summary>
    NotLiftable,
    /// <summary>Z3 found a model but running the code on it satisfies the property: the lifter
    /// and the runtime disagree (a bug in DmaVerify).</summary>
    LifterMismatch,
}

/// <summary>The result of one obligation.</summary>
public sealed record ProofOutcome(Obligation Obligation, ProofStatus Status, TimeSpan Elapsed, ulong ResourceUsed, string? Message)
{
    /// <summary>Refuted: the counterexample's inputs by name.</summary>
    public IReadOnlyDictionary<string, ulong>? Counterexample { get; init; }

    /// <summary>Refuted: the counterexample run on the real kernels.</summary>
    public ExecutionReport? Execution { get; init; }

    /// <summary>Where the SMT-LIB2 text of the query went, when asked for.</summary>
    public string? Smt2Path { get; init; }
}

/// <summary>An obligation's body executed on concrete inputs with the real kernels.</summary>
public sealed record ExecutionReport(bool PreconditionsHold, bool Holds, IReadOnlyList<string> Calls)
{
    public string Describe() =>
        $"preconditions {(PreconditionsHold ? "hold" : "do not hold")}, property {(Holds ? "holds" : "FAILS")}; kernel calls: " +
        (Calls.Count == 0 ? "none" : string.Join("; ", Calls));
}
