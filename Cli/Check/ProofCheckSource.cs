using System.Diagnostics;
using DmaVerify.Proofs;
using DmaVerify.Proofs.Running;
using DmaVerify.Proofs.Z3;

namespace DmaVerify.Cli.Check;

/// <summary>
/// Every proof obligation (PO-xx) of <see cref="ObligationCatalog.All"/>, one item each, run
/// on the kernels as they are built now, cheapest first (<see cref="ProofCosts"/>: the last
/// check's times, else static estimates). `--quick` proves every obligation that takes under
/// <see cref="ProofCosts.QuickLimitSeconds"/> s and skips only the expensive ones, naming them
/// and their cost; the default and `--long` prove all. Each proof's time is recorded for the
/// next run. A missing libz3 makes every item a skip that names the package.
/// </summary>
internal sealed class ProofCheckSource : ICheckSource
{
    public string Engine => "proofs";

    public IEnumerable<CheckItem> Items(CheckBudget budget, CheckEnvironment environment)
    {
        var costs = ProofCosts.Load(Path.Combine(environment.ArtifactDirectory, ProofCosts.FileName));
        var ordered = ObligationCatalog.All
            .OrderBy(o => costs.CostOf(o.Id)?.Seconds ?? ProofCosts.QuickLimitSeconds)
            .ThenBy(o => o.Id, StringComparer.Ordinal).ToList();
        var expensive = ordered.Where(o => !costs.IsCheap(o.Id)).ToList();
        string skipReason = "--quick proves the obligations that take under " +
            $"{ProofCosts.QuickLimitSeconds:0} s; these took longer ({string.Join(", ", expensive.Select(o => $"{o.Id} {Describe(costs.CostOf(o.Id)!.Value)}"))}); " +
            "run `verify check` or `verify prove` for all";
        foreach (var obligation in ordered)
        {
            bool skipInQuick = expensive.Contains(obligation);
            yield return new CheckItem("proofs", "-", $"proof/{obligation.Id}", check =>
            {
                if (check.Budget.Level == CheckLevel.Quick && skipInQuick) return CheckOutcome.Skip(skipReason);
                var clock = Stopwatch.StartNew();
                ProofOutcome outcome;
                try
                {
                    outcome = Prover.Prove(obligation);
                }
                catch (Z3UnavailableException e)
                {
                    return CheckOutcome.Skip(e.Message);
                }
                if (outcome.Status == ProofStatus.Proved) costs.Record(obligation.Id, clock.Elapsed.TotalSeconds);
                return Outcome(outcome);
            })
            { ChecksImplementation = false };
        }
    }

    private static string Describe((double Seconds, string Source) cost) =>
        $"{cost.Seconds.ToString(cost.Seconds < 10 ? "0.0" : "0", System.Globalization.CultureInfo.InvariantCulture)} s {(cost.Source == "estimate" ? "estimated" : "last run")}";

    private static CheckOutcome Outcome(ProofOutcome outcome) => outcome.Status switch
    {
        ProofStatus.Proved => CheckOutcome.Pass(1, "proved"),
        ProofStatus.Refuted => CheckOutcome.Fail(0, "proved",
            $"{outcome.Obligation.Id} refuted: {string.Join(", ", outcome.Counterexample?.Select(kv => $"{kv.Key}=0x{kv.Value:X}") ?? [])}; {outcome.Execution?.Describe()}",
            $"verify prove --filter {outcome.Obligation.Id}"),
        // Not decided is not a verdict: the tool could not answer, it did not find a bug.
        _ => new CheckOutcome(CheckStatus.Crashed, 0, "proved", $"{outcome.Obligation.Id} not decided ({outcome.Status}): {outcome.Message}", $"verify prove --filter {outcome.Obligation.Id}"),
    };
}
