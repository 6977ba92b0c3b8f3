using DmaVerify.Cli.Composition;
using DmaVerify.Contracts;
using DmaVerify.Harness;

namespace DmaVerify.Tests.Common;

/// <summary>
/// Bugs planted over the optimized implementation for the explore tests, each a decorator with
/// no state of its own (so its snapshots are the inner system's), named "optimized" so that a
/// registry holding it stands in for the real one.
/// </summary>
public static class PlantedSystems
{
    private static Implementation Optimized => Implementations.Registry.Get(Implementations.Optimized);

    /// <summary>A device write to the last byte of a mapping reaches the byte before it: two ops
    /// (a map, the write) show it, one cannot.</summary>
    public static Implementation LastByteOffByOne => Optimized with { Create = p => new LastByteWriteOffByOne(Optimized.Create(p)) };

    /// <summary>A map whose internal allocation was made to fail answers OutOfMemory but keeps the
    /// mapping it made (INV-15): only fault injection (--ops …,fault) reaches it.</summary>
    public static Implementation FailedMapKeepsMapping => Optimized with { Create = p => new FailedMapKeepsItsMapping(Optimized.Create(p)) };

    /// <summary>A failed op moves the exported clock on a millisecond: a change by a failed op
    /// (INV-15) that breaks no invariant of a state; only a check of the states before and
    /// after the op sees it.</summary>
    public static Implementation FailedOpMovesTheClock => Optimized with { Create = p => new FailureMovesTheClock(Optimized.Create(p)) };

    /// <summary>A registry whose default ("optimized") is <paramref name="planted"/>.</summary>
    public static ImplementationRegistry Registry(Implementation planted) => new(provider: null, [planted]);

    private abstract class Decorator(ISystemUnderTest inner) : ISystemUnderTest
    {
        protected ISystemUnderTest Inner { get; } = inner;
        public string Name => Inner.Name;
        public abstract Outcome Apply(Op op);
        public SystemState ExportState() => Inner.ExportState();
        public virtual void FailNthAllocation(int n) => Inner.FailNthAllocation(n);
        public long AllocationAttempts => Inner.AllocationAttempts;
        public SystemSnapshot Snapshot() => Inner.Snapshot();
        public void Restore(SystemSnapshot snapshot) => Inner.Restore(snapshot);
    }

    private sealed class LastByteWriteOffByOne(ISystemUnderTest inner) : Decorator(inner)
    {
        public override Outcome Apply(Op op)
        {
            var outcome = Inner.Apply(op);
            return op is DeviceAccess { Write: true, Address: LiveRef { Offset: > 0 } } && outcome is Accessed { Chunks: [var chunk] }
                ? new Accessed(ValueList.Of(chunk with { Phys = new PhysAddr(chunk.Phys.Value - 1) }))
                : outcome;
        }
    }

    private sealed class FailureMovesTheClock(ISystemUnderTest inner) : ISystemUnderTest
    {
        private ulong _drift;
        public string Name => inner.Name;

        public Outcome Apply(Op op)
        {
            var outcome = inner.Apply(op);
            if (outcome is Failed) _drift++;
            return outcome;
        }

        public SystemState ExportState()
        {
            var state = inner.ExportState();
            state.NowMs += _drift;
            return state;
        }

        public void FailNthAllocation(int n) => inner.FailNthAllocation(n);
        public long AllocationAttempts => inner.AllocationAttempts;
        public SystemSnapshot Snapshot() => new Saved(inner.Snapshot(), _drift);

        public void Restore(SystemSnapshot snapshot)
        {
            var saved = (Saved)snapshot;
            inner.Restore(saved.Inner);
            _drift = saved.Drift;
        }

        private sealed class Saved(SystemSnapshot inner, ulong drift) : SystemSnapshot(inner.Platform)
        {
            public SystemSnapshot Inner { get; } = inner;
            public ulong Drift { get; } = drift;
        }
    }

    private sealed class FailedMapKeepsItsMapping(ISystemUnderTest inner) : Decorator(inner)
    {
        private bool _armed;

        /// <summary>The failure is noted, not passed on: the map then succeeds inside.</summary>
        public override void FailNthAllocation(int n) => _armed = n > 0;

        public override Outcome Apply(Op op)
        {
            var outcome = Inner.Apply(op);
            if (!_armed || op is not Map || outcome is not Mapped) return outcome;
            _armed = false;
            return new Failed(DmaErrorKind.OutOfMemory, "planted: the table-page allocation failed");
        }
    }
}
