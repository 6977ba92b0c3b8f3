using System.Diagnostics;

namespace DmaVerify.Properties;

/// <summary>
/// How much one named run does, in cases and ops: at least <see cref="MinCases"/> cases (the
/// run's own shape, sizes growing from small to large), then more cases until
/// <see cref="TargetOps"/> ops have run or <see cref="TimeShare"/> has passed, whichever comes
/// first. The number of extra cases is sized from the oracle speed measured on the cases run so
/// far (ops per second, ops per case), so a fast preset runs many more cases than a slow one in
/// the same time, and a loaded machine runs fewer instead of overrunning.
/// </summary>
public sealed record PropertyBudget(int MinCases, long TargetOps, TimeSpan TimeShare)
{
    /// <summary>Extra batches after the first; each is re-sized from the speed measured so far.</summary>
    public const int MaxBatches = 6;

    /// <summary>Runs <paramref name="run"/> within this budget: one run of <see cref="MinCases"/>,
    /// then batches from new start seeds while ops and time remain. Stops at the first failure;
    /// the result adds up every batch's cases, ops and time (its replay line names the failing
    /// case exactly, whatever batch it came from).</summary>
    public PropertyResult Run(INamedRun run, PropertyRunOptions options, ulong seed)
    {
        var clock = Stopwatch.StartNew();
        var first = run.Run(options with { Budget = Math.Max(1, MinCases), StartSeed = PropertyEnvironment.SeedFor(run.Name, seed) });
        int cases = first.TestsRun;
        long ops = first.OpsRun;
        var last = first;
        double lastStarted = 0;
        for (int batch = 1; batch <= MaxBatches && last.Passed; batch++)
        {
            double elapsed = clock.Elapsed.TotalSeconds;
            double remaining = TimeShare.TotalSeconds - elapsed;
            long opsLeft = TargetOps - ops;
            if (remaining <= 0 || opsLeft <= 0 || cases == 0) break;
            double opsPerSecond = elapsed > 0 ? ops / elapsed : double.MaxValue;
            double opsPerCase = Math.Max(1.0, (double)ops / cases);
            double affordable = Math.Min(opsLeft, opsPerSecond * remaining);
            int next = (int)Math.Min(int.MaxValue / 2, Math.Floor(affordable / opsPerCase));
            if (next < 1) break;
            lastStarted = clock.Elapsed.TotalSeconds;
            last = run.Run(options with { Budget = next, StartSeed = PropertyEnvironment.SeedFor(run.Name, seed + (ulong)batch) });
            cases += last.TestsRun;
            ops += last.OpsRun;
        }
        // A failure's Seconds is the time to the finding: the batches before it and the failing
        // batch's own run, without the shrinking that followed.
        return last with { TestsRun = cases, OpsRun = ops, Seconds = last.Passed ? clock.Elapsed.TotalSeconds : lastStarted + last.Seconds };
    }
}
