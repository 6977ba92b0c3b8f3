using DmaVerify.Contracts;

namespace DmaVerify.Properties.Tests.Concurrency;

/// <summary>The real implementation behind one lock: linearizable by construction, the
/// control for the checker (it must accept every history of it).</summary>
public sealed class Serialized(ISystemUnderTest inner) : ISystemUnderTest
{
    private readonly Lock _gate = new();

    public static Func<PlatformConfig, ISystemUnderTest> Over(Func<PlatformConfig, ISystemUnderTest> factory) =>
        platform => new Serialized(factory(platform));

    public string Name => $"{inner.Name}+serialized";
    public Outcome Apply(Op op) { lock (_gate) return inner.Apply(op); }
    public SystemState ExportState() { lock (_gate) return inner.ExportState(); }
    public void FailNthAllocation(int n) => inner.FailNthAllocation(n);
    public long AllocationAttempts => inner.AllocationAttempts;
    public SystemSnapshot Snapshot() { lock (_gate) return inner.Snapshot(); }
    public void Restore(SystemSnapshot snapshot) { lock (_gate) inner.Restore(snapshot); }
}
