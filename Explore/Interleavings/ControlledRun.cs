using DmaVerify.Contracts;
using DmaVerify.Harness;

namespace DmaVerify.Explore;

/// <summary>
/// One run of a few threads' op lists on one system, one thread at a time: each thread runs
/// until it reaches an interleaving point (between two of its calls, or an
/// <see cref="InterleavingPoint"/> inside a call), where the schedule decides who runs next.
/// The choices at the points where more than one thread could run are the schedule: the first
/// ones are given (<c>prefix</c>, with how many threads could run there, which a
/// deterministic implementation reproduces), the rest take the lowest runnable thread, and all are
/// returned, so a depth-first search can enumerate every schedule. The running thread makes the
/// decision and hands over directly (no hand-over when it keeps the turn), so a schedule costs
/// one wake-up per switch of threads. Calls are stamped with a logical clock that only the
/// running thread advances: a run is deterministic and its history exact.
/// </summary>
internal sealed class ControlledRun
{
    private readonly ISystemUnderTest _system;
    private readonly IReadOnlyList<IReadOnlyList<Op>> _threads;
    private readonly IReadOnlyList<(int Runnable, int Chosen)> _prefix;
    private readonly SemaphoreSlim[] _turn;
    private readonly SemaphoreSlim _allDone = new(0);
    private readonly bool[] _finished;
    private readonly List<ConcurrentEvent>[] _events;
    private readonly List<(int Runnable, int Chosen)> _decisions = [];
    private long _clock;
    private long _progress;
    private bool _offPrefix;

    private ControlledRun(ISystemUnderTest system, IReadOnlyList<IReadOnlyList<Op>> threads, IReadOnlyList<(int Runnable, int Chosen)> prefix, long clockStart)
    {
        _system = system;
        _threads = threads;
        _prefix = prefix;
        _turn = [.. threads.Select(_ => new SemaphoreSlim(0))];
        _finished = new bool[threads.Count];
        _events = [.. threads.Select(_ => new List<ConcurrentEvent>())];
        _clock = clockStart;
    }

    /// <summary>The calls each thread made, in thread order, and the schedule the run took
    /// (at each decision: how many threads could run, and the index of the one that did);
    /// <c>Stuck</c> says why the run was abandoned.</summary>
    public sealed record Result(IReadOnlyList<ConcurrentEvent> Events, IReadOnlyList<(int Runnable, int Chosen)> Decisions, string? Stuck);

    /// <param name="clockStart">The first logical time (after the setup's calls).</param>
    /// <param name="stepTimeout">How long the run may go without a thread reaching a point or
    /// finishing a call before it is called stuck (a thread blocked on a lock a suspended
    /// thread holds, or a call that does not return).</param>
    public static Result Execute(ISystemUnderTest system, IReadOnlyList<IReadOnlyList<Op>> threads, IReadOnlyList<(int Runnable, int Chosen)> prefix, long clockStart, TimeSpan stepTimeout) =>
        new ControlledRun(system, threads, prefix, clockStart).Drive(stepTimeout);

    private Result Drive(TimeSpan stepTimeout)
    {
        var workers = Enumerable.Range(0, _threads.Count).Select(t => new Thread(() => Work(t)) { IsBackground = true, Name = $"interleaving {t}" }).ToList();
        workers.ForEach(w => w.Start());
        if (Next() is not int first) return new Result([], _decisions, null); // no thread has a call
        _turn[first].Release();
        long seen = -1;
        while (!_allDone.Wait(stepTimeout))
        {
            long now = Interlocked.Read(ref _progress);
            if (now == seen)
                // The stuck thread keeps its place in a background thread; the run is abandoned.
                return new Result([], _decisions, $"a thread ran {stepTimeout.TotalSeconds:0.#} s without reaching an interleaving point " +
                                                  "(blocked on a lock a suspended thread holds, or a call that does not return)");
            seen = now;
        }
        workers.ForEach(w => w.Join());
        if (_offPrefix || _decisions.Count < _prefix.Count)
            return new Result([], _decisions, "a schedule's run did not come to the choices an earlier run of the same prefix had " +
                                              "(the implementation's interleaving points differ between runs from the same state)");
        return new Result([.. _events.SelectMany(e => e)], _decisions, null);
    }

    /// <summary>The thread that runs next, recording a decision when several could; null when
    /// all have finished. Only the running thread (or the driver, before any) calls it.</summary>
    private int? Next()
    {
        int runnable = 0;
        for (int t = 0; t < _finished.Length; t++)
            if (!_finished[t]) runnable++;
        if (runnable == 0) return null;
        int choice = 0;
        if (runnable > 1)
        {
            bool given = _decisions.Count < _prefix.Count;
            choice = given ? _prefix[_decisions.Count].Chosen : 0;
            if (given && _prefix[_decisions.Count].Runnable != runnable)
            {
                // Not thrown: this runs on a worker thread. The run ends and says so.
                _offPrefix = true;
                choice = runnable - 1;
            }
            _decisions.Add((runnable, choice));
        }
        for (int t = 0; ; t++)
            if (!_finished[t] && choice-- == 0) return t;
    }

    private void Work(int t)
    {
        _turn[t].Wait();
        var turn = new Turn(this, t);
        InterleavingPoint.Scheduler = turn;
        try
        {
            var ops = _threads[t];
            for (int i = 0; i < ops.Count; i++)
            {
                if (i > 0) turn.Yield();
                long invoked = ++_clock;
                Outcome outcome;
                try
                {
                    outcome = _system.Apply(ops[i]);
                }
                catch (Exception e)
                {
                    outcome = new Failed(DmaErrorKind.InvalidArgument, $"internal error: {_system.Name} threw {e.GetType().Name}: {e.Message}");
                }
                _events[t].Add(new ConcurrentEvent(t, ops[i], outcome, invoked, ++_clock));
                Interlocked.Increment(ref _progress);
            }
        }
        finally
        {
            InterleavingPoint.Scheduler = null;
            _finished[t] = true;
            if (Next() is int next) _turn[next].Release();
            else _allDone.Release();
        }
    }

    /// <summary>A thread's side of a point: decide who runs next; hand over unless it is this thread.</summary>
    private sealed class Turn(ControlledRun run, int thread) : IInterleavingScheduler
    {
        public void Yield()
        {
            Interlocked.Increment(ref run._progress);
            int next = run.Next()!.Value; // this thread is runnable, so someone is
            if (next == thread) return;
            run._turn[next].Release();
            run._turn[thread].Wait();
        }
    }
}
