using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Harness;

/// <summary>What kind of problem a model-vs-implementation run found.</summary>
public enum FindingKind
{
    /// <summary>The implementation's outcome is not one the model allows (a Divergence).</summary>
    Divergence,
    /// <summary>The implementation's exported state breaks an invariant.</summary>
    InvariantViolation,
    /// <summary>The implementation threw, or reported an internal error as its outcome.</summary>
    ImplementationCrash,
    /// <summary>The model or the checker threw: a bug in DmaVerify itself.</summary>
    ToolCrash,
}

/// <summary>
/// The first problem of a run: its kind, the 0-based step at which it showed, the invariant it
/// breaks (INV-xx; "CRASH" for crashes) and an explanation. <see cref="Signature"/> is what
/// shrinkers and fuzzers compare to decide that a smaller input fails "the same way".
/// </summary>
public sealed record Finding(FindingKind Kind, int Step, string Invariant, string Message)
{
    public string Signature => $"{Kind}:{Invariant}";

    public override string ToString() => $"step {Step}: {Kind} {Invariant}: {Message}";

    internal static Finding From(int step, Divergence d) => new(FindingKind.Divergence, step, d.Invariant, d.ToString());

    internal static Finding From(int step, IReadOnlyList<Violation> violations) =>
        new(FindingKind.InvariantViolation, step, violations[0].Invariant, string.Join("; ", violations));

    internal static Finding Crash(FindingKind kind, int step, string component, Exception e) =>
        new(kind, step, "CRASH", $"{component} threw {e.GetType().Name}: {e.Message}");
}
