using System.Buffers;

namespace DmaVerify.Fuzz.Targets;

/// <summary>
/// How the engine reaches a target that lives in another load context (the copy of this
/// assembly loaded beside instrumented Model/Optimized/Harness): by reflection on this type,
/// getting back a delegate of a BCL type, which both contexts share. The delegate throws what
/// the target throws (FuzzFinding of that context, or the crash).
/// </summary>
public static class TargetEntryPoint
{
    public static ReadOnlySpanAction<byte, object?> Create(string name, string implementation, int invariantEvery)
    {
        var target = FuzzTargets.Create(name, new ScenarioTargetOptions { Implementation = implementation, InvariantEvery = invariantEvery });
        return (data, _) => target.Run(data);
    }
}
