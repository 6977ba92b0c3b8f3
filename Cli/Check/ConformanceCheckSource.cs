using DmaVerify.Conformance;

namespace DmaVerify.Cli.Check;

/// <summary>
/// The allocator conformance suite (<see cref="AllocatorConformance"/>) on every allocator of the
/// check environment: the shipped ones (optimized, linuxstyle with its known max32 refusals
/// counted), or the one given with --allocator. One item per allocator; cases scale with the
/// check level. A failure writes the shrunk case to conformance/NAME.iova under the artifact
/// folder (the allocator's latest finding) and names the command that replays it, call by call.
/// </summary>
internal sealed class ConformanceCheckSource : ICheckSource
{
    public string Engine => "conformance";

    public const int DefaultCases = 200;

    public IEnumerable<CheckItem> Items(CheckBudget budget, CheckEnvironment environment)
    {
        foreach (var subject in environment.Allocators)
            yield return new CheckItem($"{Engine}:{subject.Name}", "-", $"conformance/{subject.Name}", check => Run(subject, check));
    }

    private static CheckOutcome Run(AllocatorSubject subject, CheckRun check)
    {
        var result = AllocatorConformance.Run(subject, new ConformanceOptions
        {
            Cases = check.Budget.Scaled(DefaultCases),
            Seed = check.Budget.Seed,
            TimeBudget = check.Budget.PerItem,
            MaxShrinkTime = check.Budget.PerItem,
            Cancel = check.Cancel,
            Log = check.Report,
        });
        if (result.Passed) return CheckOutcome.Pass(result.Calls, "calls");
        string text = result.CaseText!;
        string folder = Path.Combine(check.Environment.ArtifactDirectory, "conformance");
        Directory.CreateDirectory(folder);
        string file = Path.Combine(folder, subject.Name + AllocatorCase.Extension); // the allocator's latest finding
        File.WriteAllText(file, text);
        string who = check.Environment.ReplayOptions.Length > 0 ? check.Environment.ReplayOptions : $" --impl {subject.Name}";
        var finding = result.Finding!;
        return CheckOutcome.Fail(result.Calls, "calls",
            $"{finding.What} at call {finding.Step} of a {result.Shrunk!.Executed.Count}-call case: {finding.Call}: {finding.Message}",
            $"verify replay {file}{who}");
    }
}
