using System.Diagnostics;
using DmaVerify.Proofs;
using DmaVerify.Proofs.Running;
using DmaVerify.Proofs.Z3;

namespace DmaVerify.Cli.Check;

/// <summary>
/// Every proof obligation (PO-xx) of <see cref="ObligationCatalog.All"/>, one item each, run
/// on the kernels as they are built now. `--quick` proves obligations in catalogue order until
/// 20 seconds are spent and skips the rest (saying so); the default and `--long` prove all.
/// A missing libz3 makes every item a skip that names the package.
/// </summary>
internal sealed class ProofCheckSource : ICheckSource
{
    public string Engine => "proofs";

    private static readonly TimeSpan QuickBudget = TimeSpan.FromSeconds(20);

    public IEnumerable<CheckItem> Items(CheckBudget budget, CheckEnvironment environment)
    {
        var spent = new Stopwatch();
        foreach (var obligation in ObligationCatalog.All)
        {
            yield return new CheckItem("proofs", "-", $"proof/{obligation.Id}", check =>
            {
                if (check.Budget.Level == CheckLevel.Quick && spent.Elapsed > QuickBudget)
                    return CheckOutcome.Skip($"--quick spends at most {QuickBudget.TotalSeconds:F0} s on proofs; run `verify prove` for all");
                spent.Start();
                try
                {
                    return Outcome(Prover.Prove(obligation));
                }
                catch (Z3UnavailableException e)
                {
                    return CheckOutcome.Skip(e.Message);
                }
                finally
                {
                    spent.Stop();
                }
            });
        }
    }

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
