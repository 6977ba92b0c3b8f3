using System.Diagnostics;

namespace DmaVerify.Cli.Check;

/// <summary>
/// Runs the items of every source one after another and reports progress. An item that throws
/// is a crash of that item (a bug in DmaVerify), recorded and not allowed to stop the others;
/// an item that runs past its budget is stopped through its cancellation token and counts as
/// failed only if the source says so (sources treat the budget as "stop early", not "fail").
/// </summary>
internal sealed class CheckRunner(IReadOnlyList<ICheckSource> sources, ICheckProgress progress)
{
    /// <summary>Every source's items. A source whose listing throws gives one crashed item in
    /// <c>ListingCrashes</c>, which no filter may drop (a tool error is never lost).</summary>
    public (List<CheckItem> Items, List<CheckItem> ListingCrashes) List(CheckBudget budget, CheckEnvironment context)
    {
        var items = new List<CheckItem>();
        var crashes = new List<CheckItem>();
        foreach (var source in sources)
        {
            try
            {
                items.AddRange(source.Items(budget, context));
            }
            catch (Exception e)
            {
                crashes.Add(new CheckItem(source.Engine, "-", $"{source.Engine} (listing)", _ =>
                    new CheckOutcome(CheckStatus.Crashed, 0, "", $"listing the {source.Engine} items threw {e.GetType().Name}: {e.Message}")));
            }
        }
        return (items, crashes);
    }

    /// <param name="finished">Called with each result as soon as its item ends (the --long
    /// journal writes it down, so a killed run loses only the item that was running).</param>
    public IReadOnlyList<CheckResult> Run(IReadOnlyList<CheckItem> items, CheckBudget budget, CheckEnvironment context, CancellationToken cancel,
        Action<CheckResult>? finished = null)
    {
        var results = new List<CheckResult>(items.Count);
        progress.Started(items.Count);
        foreach (var item in items)
        {
            if (cancel.IsCancellationRequested) break;
            progress.ItemStarted(item, results.Count);
            var watch = Stopwatch.StartNew();
            CheckOutcome outcome;
            // A hard stop well past the item's budget: the item sees the token and returns what it has.
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            limit.CancelAfter(budget.PerItem * 4 + TimeSpan.FromSeconds(30));
            try
            {
                outcome = item.Run(new CheckRun(budget, context, limit.Token, status => progress.ItemStatus(item, status)));
            }
            catch (OperationCanceledException) when (limit.IsCancellationRequested)
            {
                outcome = new CheckOutcome(CheckStatus.Crashed, 0, "", $"stopped after {watch.Elapsed.TotalSeconds:F0} s: the item ignored its budget");
            }
            catch (Exception e)
            {
                outcome = new CheckOutcome(CheckStatus.Crashed, 0, "", $"{e.GetType().Name}: {e.Message}");
            }
            var result = new CheckResult(item, outcome, watch.Elapsed);
            results.Add(result);
            finished?.Invoke(result);
            progress.ItemFinished(result, results.Count, items.Count);
        }
        progress.Finished(results);
        return results;
    }
}
