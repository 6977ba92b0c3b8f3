using System.Diagnostics;
using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;

namespace DmaVerify.Explore;

/// <summary>What <see cref="InterleavingSearch"/> enumerates.</summary>
public sealed record InterleavingOptions
{
    public const int DefaultThreads = 2, DefaultDepth = 2;

    /// <summary>Threads on the shared domain (2 or 3).</summary>
    public int Threads { get; init; } = DefaultThreads;

    /// <summary>Calls per thread: every op list of 1 to Depth calls from the thread's alphabet.</summary>
    public int Depth { get; init; } = DefaultDepth;

    /// <summary>Stop (incomplete) after this many schedules in all.</summary>
    public long MaxSchedules { get; init; } = 10_000_000;

    public TimeSpan? TimeLimit { get; init; }

    /// <summary>How long one thread may run without reaching an interleaving point.</summary>
    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>A schedule that broke linearizability or an invariant, with everything needed to
/// read it: the setup, each thread's calls, the choices made and the recorded history.</summary>
public sealed record InterleavingFinding(IReadOnlyList<Op> Setup, IReadOnlyList<IReadOnlyList<Op>> Threads, IReadOnlyList<int> Schedule, Finding Finding, string History);

public sealed record InterleavingResult(
    string Preset, string Implementation, int Threads, int Depth, long OpLists, long Schedules, bool Complete, TimeSpan Elapsed,
    InterleavingFinding? Finding, string? ToolError)
{
    public double SchedulesPerSecond => Elapsed.TotalSeconds > 0 ? Schedules / Elapsed.TotalSeconds : 0;
}

/// <summary>
/// Systematic concurrency testing of one preset: threads on devices of one domain each run a
/// short op list (every list of 1 to <see cref="InterleavingOptions.Depth"/> calls of a small
/// alphabet: map a page of the thread's own buffer, unmap the device's first mapping, read
/// through it), after a setup that maps two pages per device; for every combination of lists,
/// every schedule of the threads at their interleaving points is run (stateless depth-first
/// search over the scheduler's choices, the system restored to the setup's end each time), and
/// each history is judged by the linearizability checker against the model and each end state
/// by the invariants. Calls are atomic between interleaving points, so an implementation that
/// serialises every call has exactly the schedules of its call orders, all linearizable; one
/// with a window inside a call (<see cref="InterleavingPoint"/>) has more, and a race in the
/// window is found with the first schedule that shows it.
/// </summary>
public sealed class InterleavingSearch(PlatformConfig platform, Implementation implementation, InterleavingOptions options)
{
    private const ulong PageLength = 0x1000;

    /// <summary>The devices the threads use: two of the shared table on soc-vcm, else device 0
    /// (its domain shared by all threads).</summary>
    public static IReadOnlyList<int> DevicesOf(PlatformConfig platform) =>
        platform.Preset == Presets.SocVcm ? [0, 1] : [0];

    public InterleavingResult Run(CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        var devices = DevicesOf(platform);
        int DeviceOf(int thread) => devices[thread % devices.Count];
        ulong ram = (platform.Ram[0].Start + 0x100_0000) & ~0xFFFFUL;
        var setup = devices.SelectMany((d, k) => new[] { 0, 1 }.Select(j =>
            (Op)new Map(d, new PhysAddr(ram + 0x1000_0000 + (ulong)(2 * k + j) * 0x10000), PageLength, DmaDirection.Bidirectional))).ToList();
        var alphabets = Enumerable.Range(0, options.Threads).Select(t => Alphabet(DeviceOf(t), new PhysAddr(ram + (ulong)(t + 1) * 0x10000))).ToList();
        var lists = alphabets.Select(Lists).ToList();

        ISystemUnderTest system;
        SystemSnapshot start;
        StateBaseline? baseline;
        var setupEvents = new List<ConcurrentEvent>();
        try
        {
            system = implementation.Create(platform);
            long time = 0;
            foreach (var op in setup) setupEvents.Add(new ConcurrentEvent(-1, op, system.Apply(op), ++time, ++time));
            start = system.Snapshot();
            // Each end state is judged against the setup's (the domains a schedule left as they were are not judged again).
            baseline = StateBaseline.Verified(system.ExportState());
        }
        catch (Exception e)
        {
            var crash = new Finding(FindingKind.ImplementationCrash, 0, "CRASH", $"{implementation.Name} threw {e.GetType().Name} during the setup: {e.Message}");
            return Done(0, 0, complete: false, new InterleavingFinding(setup, [], [], crash, ""), null);
        }
        var checker = new LinearizabilityChecker(platform, implementation.ModelOptions);
        long opLists = 0, schedules = 0;
        foreach (var threads in Combinations(lists))
        {
            opLists++;
            var prefix = new List<(int Runnable, int Chosen)>();
            while (true)
            {
                if (cancel.IsCancellationRequested || schedules >= options.MaxSchedules || clock.Elapsed > options.TimeLimit)
                    return Done(opLists, schedules, complete: false, null, null);
                try
                {
                    system.Restore(start);
                }
                catch (Exception e)
                {
                    var crash = new Finding(FindingKind.ImplementationCrash, 0, "CRASH", $"{implementation.Name}'s restore threw {e.GetType().Name}: {e.Message}");
                    return Done(opLists, schedules, complete: false, new InterleavingFinding(setup, threads, [.. prefix.Select(p => p.Chosen)], crash, ""), null);
                }
                var run = ControlledRun.Execute(system, threads, prefix, setupEvents.Count * 2, options.StepTimeout);
                schedules++;
                var schedule = run.Decisions.Select(d => d.Chosen).ToList();
                if (run.Stuck is string stuck) return Done(opLists, schedules, complete: false, null, $"{implementation.Name}: {stuck}");
                var history = new ConcurrentHistory(platform.Preset, [.. setupEvents, .. run.Events]);
                if (Judge(checker, system, history, baseline) is { } finding)
                    return Done(opLists, schedules, complete: false, new InterleavingFinding(setup, threads, schedule, finding, history.ToText()), null);
                // Next schedule: the last choice with an untried alternative, taken one further.
                int k = run.Decisions.Count - 1;
                while (k >= 0 && run.Decisions[k].Chosen + 1 >= run.Decisions[k].Runnable) k--;
                if (k < 0) break;
                prefix = [.. run.Decisions.Take(k), (run.Decisions[k].Runnable, run.Decisions[k].Chosen + 1)];
            }
        }
        return Done(opLists, schedules, complete: true, null, null);

        InterleavingResult Done(long cases, long count, bool complete, InterleavingFinding? finding, string? toolError) =>
            new(platform.Preset, implementation.Name, options.Threads, options.Depth, cases, count, complete && finding is null, clock.Elapsed, finding, toolError);
    }

    private static Finding? Judge(LinearizabilityChecker checker, ISystemUnderTest system, ConcurrentHistory history, StateBaseline? baseline)
    {
        if (checker.Check(history) is { } finding) return finding;
        try
        {
            var state = system.ExportState();
            var violations = baseline?.Check(state) ?? InvariantChecker.Check(state);
            return violations.Count == 0 ? null
                : new Finding(FindingKind.InvariantViolation, history.Events.Count - 1, violations[0].Invariant, string.Join("; ", violations));
        }
        catch (Exception e)
        {
            return new Finding(FindingKind.ImplementationCrash, history.Events.Count - 1, "CRASH", $"{system.Name}'s state export threw {e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>A thread's calls: map a page of its own buffer, unmap the device's first mapping,
    /// read through it. Every mapping is one page, so an unmap of "#0" is well-formed whichever
    /// mapping is first when it runs, and a read shows which buffer it reached.</summary>
    public static IReadOnlyList<Op> Alphabet(int device, PhysAddr buffer) =>
    [
        new Map(device, buffer, PageLength, DmaDirection.Bidirectional),
        new Unmap(device, new LiveRef(0), PageLength, DmaDirection.Bidirectional),
        new DeviceAccess(device, new LiveRef(0), 4, false),
    ];

    /// <summary>Every list of 1 to Depth ops over the alphabet, shortest first.</summary>
    private IReadOnlyList<IReadOnlyList<Op>> Lists(IReadOnlyList<Op> alphabet)
    {
        var all = new List<IReadOnlyList<Op>>();
        var level = new List<IReadOnlyList<Op>> { Array.Empty<Op>() };
        for (int d = 1; d <= options.Depth; d++)
        {
            level = [.. level.SelectMany(prefix => alphabet.Select(op => (IReadOnlyList<Op>)[.. prefix, op]))];
            all.AddRange(level);
        }
        return all;
    }

    private static IEnumerable<IReadOnlyList<IReadOnlyList<Op>>> Combinations(IReadOnlyList<IReadOnlyList<IReadOnlyList<Op>>> perThread)
    {
        var index = new int[perThread.Count];
        while (true)
        {
            yield return [.. index.Select((i, t) => perThread[t][i])];
            int k = perThread.Count - 1;
            while (k >= 0 && ++index[k] == perThread[k].Count) index[k--] = 0;
            if (k < 0) yield break;
        }
    }
}
