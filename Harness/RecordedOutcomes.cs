using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Harness;

/// <summary>A step where a system's outcome is not the one the scenario file recorded
/// (<c># -> outcome</c>). <see cref="Why"/> says how they differ.</summary>
public sealed record RecordedMismatch(int Step, Outcome Recorded, Outcome Actual, string Why);

/// <summary>
/// The outcomes a scenario file records (<c># -> outcome</c>) are what the model answers, with
/// the model's own choices (which IOVA, which slot). An implementation may choose differently
/// where the model allows it, and later steps that name literal addresses then differ too, so
/// for an implementation these differences are information beside the refinement verdict, not
/// the verdict: they show where the implementation's choices part from the file's. Failures
/// compare by error kind alone, as <see cref="ScenarioRunner.CompareExpected"/> does.
/// </summary>
public static class RecordedOutcomes
{
    /// <summary>The steps of <paramref name="run"/> (ops with a system's outcomes, in order)
    /// whose outcome differs from what <paramref name="scenario"/> recorded for that step.</summary>
    public static IReadOnlyList<RecordedMismatch> Compare(Scenario scenario, IReadOnlyList<ScenarioStep> run)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(run);
        var mismatches = new List<RecordedMismatch>();
        int steps = Math.Min(scenario.Steps.Count, run.Count);
        for (int i = 0; i < steps; i++)
        {
            if (scenario.Steps[i].Expected is not { } recorded || run[i].Expected is not { } actual) continue;
            if (ScenarioRunner.CompareExpected(recorded, actual) is { } why)
                mismatches.Add(new RecordedMismatch(i, recorded, actual, why));
        }
        return mismatches;
    }
}
