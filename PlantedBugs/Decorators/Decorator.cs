using DmaVerify.Contracts;

namespace DmaVerify.PlantedBugs;

/// <summary>
/// Base of the test-only bug-planted systems: wraps a real implementation through
/// <see cref="ISystemUnderTest"/> and changes one behaviour. Optimized/ stays clean; each bug
/// lives in its own subclass.
/// </summary>
public abstract class Decorator(ISystemUnderTest inner, string bug) : ISystemUnderTest
{
    protected ISystemUnderTest Inner { get; } = inner;
    public string Name => $"{Inner.Name}+{bug}";
    public virtual Outcome Apply(Op op) => Inner.Apply(op);
    public virtual SystemState ExportState() => Inner.ExportState();
    public void FailNthAllocation(int n) => Inner.FailNthAllocation(n);
    public long AllocationAttempts => Inner.AllocationAttempts;

    /// <summary>Decorators without state of their own save and restore the inner system's;
    /// those with state override both (see <see cref="DecoratorSnapshot{TState}"/>).</summary>
    public virtual SystemSnapshot Snapshot() => Inner.Snapshot();
    public virtual void Restore(SystemSnapshot snapshot) => Inner.Restore(snapshot);

    /// <summary>The live mapping a handle names right now (LiveRef: n-th of the device; RawRef: by DMA address).</summary>
    protected static DmaMapping? Resolve(SystemState state, int device, AddressRef handle)
    {
        var mine = state.MappingsOf(device).ToList();
        return handle switch
        {
            LiveRef l => l.Index >= 0 && l.Index < mine.Count ? mine[l.Index] : null,
            RawRef r => mine.FirstOrDefault(m => m.Dma.Value == r.Address),
            _ => null,
        };
    }
}

/// <summary>A decorator's snapshot: the inner system's plus a copy of the decorator's own state.</summary>
public sealed class DecoratorSnapshot<TState>(SystemSnapshot inner, TState state) : SystemSnapshot(inner.Platform)
{
    public SystemSnapshot Inner { get; } = inner;
    public TState State { get; } = state;

    /// <summary>The decorator's state, or an <see cref="ArgumentException"/> for another kind of snapshot.</summary>
    public static DecoratorSnapshot<TState> Of(SystemSnapshot snapshot, string decorator) =>
        snapshot as DecoratorSnapshot<TState>
        ?? throw new ArgumentException($"not a snapshot of {decorator}", nameof(snapshot));
}

/// <summary>Order-independent hashes of a decorator's own state, for <see cref="IHiddenStateFingerprint"/>.</summary>
public static class HiddenState
{
    public static ulong Of(IEnumerable<KeyValuePair<(int, ulong), ulong>> entries)
    {
        ulong sum = 0;
        foreach (var ((a, b), c) in entries)
            sum += Mix(Mix(Mix((ulong)a) ^ b) ^ c);
        return sum;
    }

    private static ulong Mix(ulong x)
    {
        x ^= x >> 33;
        x *= 0xFF51_AFD7_ED55_8CCD;
        x ^= x >> 33;
        return x;
    }
}
