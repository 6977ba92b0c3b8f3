using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Harness;

/// <summary>
/// Is a concurrent history linearizable against the model's sequential semantics? Searches,
/// exhaustively, the orders of the calls that respect real time (a call that returned before
/// another was invoked comes first; calls of one thread keep their order) for one in which the
/// model (<see cref="ModelSystem.Check"/>, which accepts any outcome it allows and adopts the
/// implementation's choices) accepts every answer. The search walks one model, saving its
/// state before each placed call and restoring it on the way back (O(1) snapshots), so a
/// prefix the model refuses is cut off with everything below it. Histories are small (≤ 20
/// calls).
/// </summary>
public sealed class LinearizabilityChecker(PlatformConfig platform, ModelOptions? options = null)
{
    // Built once: every search restores its starting state (O(1)) instead of building a model.
    private readonly ModelSystem _model = new(platform, options);
    private ModelSnapshot? _start;

    public int PrefixesTried { get; private set; }

    /// <summary>A witness order (indexes into the history's events), or null when none exists.</summary>
    public IReadOnlyList<int>? FindLinearization(ConcurrentHistory history)
    {
        var events = history.Events;
        int n = events.Count;
        if (n > 20) throw new ArgumentException($"history of {n} calls is too long for the exhaustive search (≤ 20)");
        var predecessors = new int[n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (i != j && events[j].Precedes(events[i])) predecessors[i] |= 1 << j;
        var model = _model;
        model.Restore(_start ??= model.Snapshot());
        var order = new List<int>(n);
        return Search(0) ? order : null;

        bool Search(int placed)
        {
            if (order.Count == n) return true;
            var saved = model.Snapshot();
            for (int i = 0; i < n; i++)
            {
                if ((placed & (1 << i)) != 0 || (predecessors[i] & ~placed) != 0) continue;
                PrefixesTried++;
                order.Add(i);
                if (model.Check(events[i].Op, events[i].Outcome).Divergence is null && Search(placed | (1 << i))) return true;
                order.RemoveAt(order.Count - 1);
                model.Restore(saved);
            }
            return false;
        }
    }

    /// <summary>The history as a finding: null when linearizable.</summary>
    public Finding? Check(ConcurrentHistory history)
    {
        var crash = history.Events.FirstOrDefault(e => e.Outcome is Failed f && f.Error.Message.StartsWith("internal error", StringComparison.Ordinal));
        if (crash is not null)
            return new Finding(FindingKind.ImplementationCrash, history.Events.ToList().IndexOf(crash), "CRASH", ((Failed)crash.Outcome).Error.Message);
        if (FindLinearization(history) is not null) return null;
        return new Finding(FindingKind.Divergence, history.Events.Count - 1, "LINEARIZABILITY",
            $"no order of the {history.Events.Count} calls that respects real time is one the model allows:\n{history.ToText()}");
    }
}
