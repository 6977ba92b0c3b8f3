using DmaVerify.Properties;

namespace DmaVerify.Cli.Check;

/// <summary>
/// The property runs of <see cref="PropertyCatalogue"/> (invariants on the model and on each
/// implementation, refinement, topologies, fault sweeps, linearizability), each within the
/// level's <see cref="PropertyBudget"/>: its default cases scaled by the level, then more cases
/// until the level's op target or time share is reached, sized from the measured oracle speed. Implementations come from the check environment, so a
/// planted implementation is what the properties run against. Regression files go to the
/// artifact folder, not the corpus: committing one is the user's decision.
/// </summary>
internal sealed class PropertyCheckSource : ICheckSource
{
    public string Engine => "props";

    public IEnumerable<CheckItem> Items(CheckBudget budget, CheckEnvironment environment)
    {
        foreach (var run in new PropertyCatalogue(environment.Implementations).All)
        {
            yield return new CheckItem($"props:{run.EngineName}", run.Preset, run.Name, check => Run(run, check))
            {
                ChecksImplementation = ImplementationOf(run) is not null,
            };
        }
    }


    private static CheckOutcome Run(INamedRun run, CheckRun check)
    {
        var budget = check.Budget.PropertiesFor(run.DefaultBudget);
        var result = budget.Run(run, new PropertyRunOptions
        {
            IgnoreEnvironment = true,
            RegressionDirectory = Path.Combine(check.Environment.ArtifactDirectory, "regressions"),
            Log = line => check.Report(line),
        }, (ulong)check.Budget.Seed);
        var work = new CheckWork(Cases: result.TestsRun, Ops: result.OpsRun);
        if (result.Passed) return CheckOutcome.Pass(result.TestsRun, "cases") with { Work = work };
        string replay = result.RegressionPath is { } file
            ? $"verify replay {file}" + (ImplementationOf(run) is { } impl ? $" --impl {impl}{check.Environment.ReplayOptions}" : "")
            : $"{result.ReplayLine} dotnet test Properties.Tests";
        return CheckOutcome.Fail(result.TestsRun, "cases",
            $"{result.Finding?.Invariant} ({result.Finding?.Kind}) in a {result.ShrunkOps}-op case; {result.ReplayLine}", replay) with
        {
            Work = work, ShrunkOps = result.ShrunkOps, SecondsToFind = result.Seconds,
        };
    }

    private static string? ImplementationOf(INamedRun run) => run switch
    {
        PropertySpec s => s.ImplementationName,
        ConcurrencySpec s => s.ImplementationName,
        _ => null,
    };
}
