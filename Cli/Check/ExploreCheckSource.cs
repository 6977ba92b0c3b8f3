using DmaVerify.Explore;

namespace DmaVerify.Cli.Check;

/// <summary>
/// Bounded-exhaustive exploration per preset with the registry's default implementation: every
/// op sequence of the preset's alphabet up to the level's depth (--quick 3, default 4, --long 6),
/// stopped at the item's budget, in which case the cell names the depth that ran clean in full.
/// A finding is a shortest counterexample written under the artifact folder with its replay line.
/// </summary>
internal sealed class ExploreCheckSource : ICheckSource
{
    public string Engine => "explore";

    public static int DepthFor(CheckLevel level) => level switch
    {
        CheckLevel.Quick => 3,
        CheckLevel.Long => 6,
        _ => 4,
    };

    public IEnumerable<CheckItem> Items(CheckBudget budget, CheckEnvironment environment)
    {
        foreach (var preset in Contracts.Presets.Names)
            yield return new CheckItem(Engine, preset, $"explore/{preset}", check => Run(preset, check));
    }

    private static CheckOutcome Run(string preset, CheckRun check)
    {
        if (!ExplorePlatform.TryCreate(preset, out var platform, out string why))
            return new CheckOutcome(CheckStatus.Crashed, 0, "", why);
        var implementation = check.Environment.Implementations.Default;
        int depth = DepthFor(check.Budget.Level);
        var result = Explorer.Run(platform, implementation, new ExploreOptions
        {
            Depth = depth,
            // The items run one after another: the other cores are free. (With --allocator there
            // are no explore items: a plugged allocator is explored with one worker.)
            Workers = Environment.ProcessorCount,
            TimeLimit = check.Budget.PerItem,
            Cancel = check.Cancel,
            Status = s => check.Report($"depth {s.Depth}, {s.States:N0} states, {s.StatesPerSecond:N0}/s"),
        });
        string unit = $"states, depth {result.CleanDepth}";
        if (result.End == ExploreEnd.ToolError)
            return new CheckOutcome(CheckStatus.Crashed, result.States, unit, result.ToolError);
        if (result.Finding is not { } finding) return CheckOutcome.Pass(result.States, unit);
        string command = $"verify explore --preset {preset} --depth {depth} --impl {implementation.Name}";
        string directory = Path.Combine(check.Environment.ArtifactDirectory, "explore");
        string file = Counterexamples.Write(directory, result, Counterexamples.Text(result, command));
        return CheckOutcome.Fail(result.States, unit,
            $"{finding.Finding.Invariant} ({finding.Finding.Kind}) after {finding.Length} ops, every shorter sequence clean: {finding.Finding.Message.ReplaceLineEndings(" ")}",
            Counterexamples.ReplayCommand(file, implementation.Name + check.Environment.ReplayOptions, finding)) with
        {
            // A counterexample is shortest by construction: its length is the shrunk op count.
            ShrunkOps = finding.Length, SecondsToFind = result.Seconds,
        };
    }
}
