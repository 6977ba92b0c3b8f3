using System.Diagnostics;
using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;

namespace DmaVerify.Properties;

/// <summary>
/// Runs a concurrency case on one system: the setup ops in order, then each thread's ops on its
/// own thread, all released together by a barrier. Every call is stamped when invoked and when
/// it returned, so the checker knows which calls overlapped.
/// </summary>
public static class HistoryRecorder
{
    public static ConcurrentHistory Record(ConcurrencyCase c, ISystemUnderTest system)
    {
        var events = new List<ConcurrentEvent>();
        foreach (var op in c.Setup) events.Add(Call(system, -1, op));
        var perThread = new List<ConcurrentEvent>[c.Threads.Count];
        var start = new Barrier(c.Threads.Count);
        var threads = Enumerable.Range(0, c.Threads.Count).Select(t => new Thread(() =>
        {
            var mine = new List<ConcurrentEvent>();
            start.SignalAndWait();
            foreach (var op in c.Threads[t]) mine.Add(Call(system, t, op));
            perThread[t] = mine;
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        foreach (var list in perThread) events.AddRange(list);
        return new ConcurrentHistory(c.Preset, events);
    }

    private static ConcurrentEvent Call(ISystemUnderTest system, int thread, Op op)
    {
        long invoked = Stopwatch.GetTimestamp();
        Outcome outcome;
        try
        {
            outcome = system.Apply(op);
        }
        catch (Exception e)
        {
            outcome = new Failed(DmaErrorKind.InvalidArgument, $"internal error: {system.Name} threw {e.GetType().Name}: {e.Message}");
        }
        return new ConcurrentEvent(thread, op, outcome, invoked, Stopwatch.GetTimestamp());
    }
}
