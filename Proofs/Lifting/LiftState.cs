using DmaVerify.Proofs.Z3;

namespace DmaVerify.Proofs.Lifting;

/// <summary>
/// One symbolic path through a method: the condition under which it is taken, the arguments
/// and locals (at their storage widths) and the IL evaluation stack (int32/int64 slots).
/// Paths that reach the same instruction are merged into one, values joined with if-then-else.
/// </summary>
internal sealed class LiftState
{
    public BoolTerm? Path { get; init; } // null: taken always
    public required BvTerm[] Args { get; init; }
    public required BvTerm[] Locals { get; init; }
    public required List<BvTerm> Stack { get; init; }

    public LiftState With(BoolTerm? path) => new()
    {
        Path = path, Args = (BvTerm[])Args.Clone(), Locals = (BvTerm[])Locals.Clone(), Stack = [.. Stack],
    };

    public BoolTerm And(BoolTerm condition) => Path is null ? condition : Path & condition;

    /// <summary>The join of two disjoint paths that meet at one instruction.</summary>
    public static LiftState Merge(LiftState a, LiftState b, string where)
    {
        if (a.Stack.Count != b.Stack.Count)
            throw new InvalidOperationException($"{where}: paths meet with stack depths {a.Stack.Count} and {b.Stack.Count} (invalid IL)");
        var ctx = (a.Args.FirstOrDefault() ?? a.Locals.FirstOrDefault() ?? a.Stack.FirstOrDefault())?.Context;
        BoolTerm? path = a.Path is null || b.Path is null ? null : a.Path | b.Path;
        BvTerm Join(BvTerm x, BvTerm y) => x.SameAs(y) ? x : (a.Path ?? x.Context.True).Ite(x, y);
        return new LiftState
        {
            Path = path,
            Args = a.Args.Zip(b.Args, Join).ToArray(),
            Locals = a.Locals.Zip(b.Locals, Join).ToArray(),
            Stack = a.Stack.Zip(b.Stack, Join).ToList(),
        };
    }
}
