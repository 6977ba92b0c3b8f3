using System.Diagnostics;

namespace DmaVerify.Conformance;

/// <summary>
/// Shrinks a failing case while it still breaks the same property: drops runs of calls
/// (halves, quarters, … single calls, from the end: later calls are the likelier bystanders),
/// then makes each call plainer (fewer pages, handle #0, no offset, one-PFN reservations, the
/// flush flags set), then the space (start PFN 1), repeating until nothing changes or the
/// budget is spent. Skipped calls are dropped at the end (they change nothing).
/// </summary>
internal sealed class CaseShrinker(AllocatorSubject subject, int maxRuns, TimeSpan maxTime)
{
    public int Runs { get; private set; }

    public CaseRun Shrink(CaseRun failing)
    {
        var rule = failing.Finding!.Rule;
        var best = failing;
        var clock = Stopwatch.StartNew();
        bool Spent() => Runs >= maxRuns || clock.Elapsed >= maxTime;

        bool TryKeep(AllocatorCase candidate)
        {
            if (Spent()) return false;
            Runs++;
            var run = CaseRunner.Run(subject, candidate);
            if (run.Finding?.Rule != rule) return false;
            best = run;
            return true;
        }

        void Trim()
        {
            if (best.Executed.Count < best.Case.Calls.Count) TryKeep(best.ExecutedCase);
        }

        Trim();
        for (bool changed = true; changed && !Spent();)
        {
            changed = false;
            var calls = best.ExecutedCase.Calls;
            for (int chunk = Math.Max(1, calls.Count / 2); chunk >= 1 && !Spent(); chunk /= 2)
            {
                for (int at = best.ExecutedCase.Calls.Count - chunk; at >= 0 && !Spent(); at--)
                {
                    var current = best.ExecutedCase.Calls;
                    if (at + chunk > current.Count) continue;
                    var candidate = best.Case with { Calls = [.. current.Take(at), .. current.Skip(at + chunk)] };
                    if (TryKeep(candidate)) { changed = true; Trim(); }
                }
            }
            var now = best.ExecutedCase.Calls;
            for (int i = 0; i < now.Count && !Spent(); i++)
            {
                foreach (var simpler in Simpler(now[i]))
                {
                    var current = best.ExecutedCase.Calls;
                    if (i >= current.Count) break;
                    var candidate = best.Case with { Calls = [.. current.Take(i), simpler, .. current.Skip(i + 1)] };
                    if (TryKeep(candidate)) { changed = true; break; }
                }
            }
            if (best.Case.StartPfn != 1 && TryKeep(best.ExecutedCase with { StartPfn = 1 })) changed = true;
        }
        return best;
    }

    private static IEnumerable<AllocatorCall> Simpler(AllocatorCall call)
    {
        switch (call)
        {
            case AllocFastCall c:
                if (c.Pages > 1) { yield return c with { Pages = 1 }; yield return c with { Pages = c.Pages / 2 }; yield return c with { Pages = c.Pages - 1 }; }
                if (!c.Flush) yield return c with { Flush = true };
                break;
            case AllocCall c:
                if (c.Pages > 1) { yield return c with { Pages = 1 }; yield return c with { Pages = c.Pages / 2 }; yield return c with { Pages = c.Pages - 1 }; }
                yield return new AllocFastCall(c.Pages, c.LimitPfn, true);
                break;
            case FreeCall c:
                if (c.Live != 0) yield return c with { Live = 0 };
                if (c.Offset != 0) yield return c with { Offset = 0 };
                break;
            case FreeFastCall c:
                if (c.Live != 0) yield return c with { Live = 0 };
                break;
            case ReserveCall c:
                if (c.PfnHi != c.PfnLo) { yield return c with { PfnHi = c.PfnLo }; yield return c with { PfnLo = c.PfnHi }; }
                break;
        }
    }
}
