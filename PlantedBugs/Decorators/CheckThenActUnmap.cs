using DmaVerify.Contracts;

namespace DmaVerify.PlantedBugs;

/// <summary>
/// A planted concurrency bug, invisible to any sequential test: every call is serialized by a
/// lock, except that unmap resolves its handle ("the device's n-th mapping") in one critical
/// section and unmaps that mapping's address in another. Another thread's unmap in between
/// makes it unmap an already-unmapped address (double unmap) where every sequential order would
/// have unmapped the next mapping: a time-of-check-to-time-of-use race.
/// </summary>
public sealed class CheckThenActUnmap(ISystemUnderTest inner) : ISystemUnderTest
{
    private readonly Lock _gate = new();

    public static Func<PlatformConfig, ISystemUnderTest> Over(Func<PlatformConfig, ISystemUnderTest> factory) =>
        platform => new CheckThenActUnmap(factory(platform));

    public string Name => $"{inner.Name}+check-then-act-unmap";

    public Outcome Apply(Op op)
    {
        if (op is not Unmap { Handle: LiveRef handle } unmap)
            lock (_gate) return inner.Apply(op);
        DmaMapping? target;
        lock (_gate)
        {
            var mine = inner.ExportState().MappingsOf(unmap.Device).ToList();
            target = handle.Index < mine.Count ? mine[handle.Index] : null;
        }
        // The window: another thread runs here (a controlled scheduler picks which; free threads sleep).
        if (!InterleavingPoint.Here()) Thread.Sleep(1);
        lock (_gate)
            return inner.Apply(target is null ? unmap : unmap with { Handle = new RawRef(target.Dma.Value) });
    }

    public SystemState ExportState()
    {
        lock (_gate) return inner.ExportState();
    }

    public void FailNthAllocation(int n) => inner.FailNthAllocation(n);
    public long AllocationAttempts => inner.AllocationAttempts;
    public SystemSnapshot Snapshot() { lock (_gate) return inner.Snapshot(); }
    public void Restore(SystemSnapshot snapshot) { lock (_gate) inner.Restore(snapshot); }
}
