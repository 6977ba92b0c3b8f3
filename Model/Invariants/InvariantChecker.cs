namespace DmaVerify.Model;

/// <summary>
/// INV-01…INV-15 (DESIGN §3) as code. <see cref="Check"/> judges a state on its own;
/// <see cref="CheckStep"/> judges one op with the states before and after it (the invariants
/// that speak of events: stale access, misuse, completeness, failure atomicity).
/// Works on any <see cref="SystemState"/>, including hand-built ones.
/// </summary>
public static partial class InvariantChecker
{
    public static IReadOnlyList<Violation> Check(SystemState state) => [];  // filled in by the checker work

    public static IReadOnlyList<Violation> CheckStep(SystemState before, Op op, Outcome outcome, SystemState after) => [];
}
