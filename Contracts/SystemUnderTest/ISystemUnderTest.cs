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
}
