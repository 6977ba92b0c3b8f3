namespace DmaVerify.Contracts;

/// <summary>
/// A scheduler that runs threads one at a time and decides, at each interleaving point, which
/// runs next (`verify explore --threads`). Installed per thread, so threads it does not control
/// (other tests, other runs in the same process) never see it.
/// </summary>
public interface IInterleavingScheduler
{
    /// <summary>The calling thread reached a point where another may run; returns when it is
    /// this thread's turn again.</summary>
    void Yield();
}

/// <summary>
/// Where an implementation lets another thread in: between two critical sections of one call
/// (a lock released and taken again, a window between a check and the act on it). Under a
/// controlled scheduler the thread yields there, so a systematic search can try every order of
/// the threads' sections; otherwise nothing happens. Calls are atomic between points: a search
/// sees only the interleavings at points, so an implementation that takes a lock per section
/// marks each gap between sections.
/// </summary>
public static class InterleavingPoint
{
    [ThreadStatic] private static IInterleavingScheduler? t_scheduler;

    /// <summary>The calling thread's scheduler, or null when it runs freely.</summary>
    public static IInterleavingScheduler? Scheduler
    {
        get => t_scheduler;
        set => t_scheduler = value;
    }

    /// <summary>Another thread may run here. Returns whether a scheduler took the turn (false:
    /// the thread runs freely, and a caller that wants to widen the window may sleep).</summary>
    public static bool Here()
    {
        if (t_scheduler is not { } scheduler) return false;
        scheduler.Yield();
        return true;
    }
}
