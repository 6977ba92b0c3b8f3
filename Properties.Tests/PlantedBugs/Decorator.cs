using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;

namespace DmaVerify.Properties.Tests.PlantedBugs;

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
