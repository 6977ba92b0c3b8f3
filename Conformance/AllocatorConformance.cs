using System.Diagnostics;

namespace DmaVerify.Conformance;

/// <summary>How much the suite does.</summary>
public sealed record ConformanceOptions
{
    /// <summary>Random cases to run (each on a fresh allocator).</summary>
    public int Cases { get; init; } = 200;

    /// <summary>Calls per case.</summary>
    public int CallsPerCase { get; init; } = 60;

    /// <summary>The same seed gives the same cases.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>The granule of the spaces (12: 4 KiB).</summary>
    public int GranuleShift { get; init; } = 12;

    /// <summary>Stop starting new cases after this long (null: no limit).</summary>
    public TimeSpan? TimeBudget { get; init; }

    /// <summary>Shrinking stops after this many re-runs or this long.</summary>
    public int MaxShrinkRuns { get; init; } = 3000;
    public TimeSpan MaxShrinkTime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Progress lines ("120 cases, 7200 calls").</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Stops early when set.</summary>
    public CancellationToken Cancel { get; init; }
}

/// <summary>What a conformance run found.</summary>
/// <param name="Finding">The first broken property, after shrinking; null when every case passed.</param>
/// <param name="Shrunk">The shrunk failing run (its calls and what each returned).</param>
/// <param name="Original">The failing case as generated.</param>
public sealed record ConformanceResult(
    string Subject, int Cases, long Calls, ConformanceFinding? Finding, CaseRun? Shrunk, AllocatorCase? Original, int ShrinkRuns,
    IReadOnlyList<KnownDeviation> Known, int Seed)
{
    /// <summary>Allocations that returned 0 over all cases: how often the cases exhausted their space.</summary>
    public long Refusals { get; init; }

    public bool Passed => Finding is null;

    /// <summary>The failing case in the text form, with the finding as a comment (for a file
    /// that <c>verify replay … --allocator …</c> reads).</summary>
    public string? CaseText => Shrunk is null ? null
        : Shrunk.ExecutedCase.ToText($"{Subject}: {Finding}\nfound with seed {Seed}; shrunk from {Original!.Calls.Count} to {Shrunk.Executed.Count} calls");

    public override string ToString() => Passed
        ? $"{Subject}: conformance PASSED ({Cases} cases, {Calls} calls, {Refusals} refusals{(Known.Count > 0 ? $", {Known.Count} known deviations" : "")})"
        : $"{Subject}: conformance FAILED: {Finding} (shrunk to {Shrunk!.Executed.Count} calls)";
}

/// <summary>
/// The allocator conformance suite, runnable against any <see cref="Optimized.Iova.IIovaAllocator"/>
/// without the DMA layer: random cases of allocator calls (<see cref="CaseGenerator"/>), each on a
/// fresh instance, every call judged by the model's allocation rules (<see cref="CaseRunner"/>);
/// the first failing case is shrunk (<see cref="CaseShrinker"/>) to the fewest calls that still
/// break the same property, so a finding names the call that broke the contract and what it
/// returned. Properties: no overlap, within [start, limit], size alignment, reservations
/// respected, frees free (the named range, and only it), completeness (a fit that exists is
/// found), and, when the allocator reports its ranges, that its view matches its answers.
/// Crashes and hangs of a plugged allocator are findings like the others.
/// </summary>
public static class AllocatorConformance
{
    public static ConformanceResult Run(AllocatorSubject subject, ConformanceOptions? options = null)
    {
        options ??= new ConformanceOptions();
        var generator = new CaseGenerator(new Random(options.Seed), options.GranuleShift);
        var clock = Stopwatch.StartNew();
        var known = new List<KnownDeviation>();
        long calls = 0, refusals = 0;
        int cases = 0;
        for (; cases < options.Cases; cases++)
        {
            if (options.Cancel.IsCancellationRequested || options.TimeBudget is { } budget && clock.Elapsed >= budget) break;
            var c = generator.Next(options.CallsPerCase);
            var run = CaseRunner.Run(subject, c);
            calls += run.Executed.Count;
            refusals += run.Refusals;
            known.AddRange(run.Known);
            if (run.Finding is not null)
            {
                options.Log?.Invoke($"case {cases + 1}: {run.Finding.Rule} at call {run.Finding.Step}; shrinking");
                var shrinker = new CaseShrinker(subject, options.MaxShrinkRuns, options.MaxShrinkTime);
                var shrunk = shrinker.Shrink(run);
                return new ConformanceResult(subject.Name, cases + 1, calls, shrunk.Finding, shrunk, c, shrinker.Runs, known, options.Seed) { Refusals = refusals };
            }
            if ((cases + 1) % 20 == 0) options.Log?.Invoke($"{cases + 1} cases, {calls} calls");
        }
        return new ConformanceResult(subject.Name, cases, calls, null, null, null, 0, known, options.Seed) { Refusals = refusals };
    }

    /// <summary>Runs one case (a file's, or a finding's) and returns every call with its answer.</summary>
    public static CaseRun Replay(AllocatorSubject subject, AllocatorCase c) => CaseRunner.Run(subject, c);
}
