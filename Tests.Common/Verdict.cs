using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Tests.Common;

/// <summary>Assertions over checker reports that print the whole report when they fail.</summary>
public static class Verdict
{
    public static string Describe(IEnumerable<Violation> violations) =>
        string.Join("\n", violations.Select(v => "  " + v));

    public static void Clean(SystemState state) => Clean(InvariantChecker.Check(state));

    public static void Clean(IReadOnlyList<Violation> violations) =>
        Assert.True(violations.Count == 0, "expected no violations, got:\n" + Describe(violations));

    /// <summary>Asserts that the state violates exactly these invariants (each at least once).</summary>
    public static IReadOnlyList<Violation> Exactly(SystemState state, params string[] ids) =>
        Exactly(InvariantChecker.Check(state), ids);

    public static IReadOnlyList<Violation> Exactly(IReadOnlyList<Violation> violations, params string[] ids)
    {
        var got = violations.Select(v => v.Invariant).Distinct().Order().ToArray();
        Assert.True(got.SequenceEqual(ids.Distinct().Order()),
            $"expected exactly [{string.Join(", ", ids)}], got:\n" + Describe(violations));
        return violations;
    }
}
