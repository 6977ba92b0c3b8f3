namespace DmaVerify.Contracts;

/// <summary>
/// An implementation checked against the reference model: it runs ops and exports its state in
/// the model's shape (<see cref="SystemState"/>). Implementations must not throw out of
/// <see cref="Apply"/>; one that does is reported as a crash of the implementation.
/// </summary>
public interface ISystemUnderTest
{
    /// <summary>The catalogue name ("optimized", ...), as used on the command line.</summary>
    string Name { get; }

    Outcome Apply(Op op);

    SystemState ExportState();

    /// <summary>Makes the n-th internal allocation from now fail (1 = the next); ≤ 0 cancels.
    /// Implementations without an injectable allocator ignore it.</summary>
    void FailNthAllocation(int n);

    /// <summary>Internal allocations attempted so far (the bound for fault-injection sweeps).</summary>
    long AllocationAttempts { get; }

    /// <summary>Saves everything <see cref="Apply"/>, <see cref="ExportState"/> and
    /// <see cref="AllocationAttempts"/> depend on. The snapshot never changes afterwards, whatever
    /// this system does next.</summary>
    SystemSnapshot Snapshot();

    /// <summary>Puts the system back in the state <paramref name="snapshot"/> saved: every later
    /// op behaves as it would have then. A snapshot may be restored many times, and into another
    /// instance of the same kind built over the same platform object. Cancels an armed
    /// <see cref="FailNthAllocation"/>. Throws <see cref="ArgumentException"/> (and changes
    /// nothing) for a snapshot of another kind of system or of another platform.</summary>
    void Restore(SystemSnapshot snapshot);
}
