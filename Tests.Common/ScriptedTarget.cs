using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Tests.Common;

/// <summary>A replay target that answers each op with what the test scripts (or throws what it
/// throws), for tests of the runner and of what reports say about a run.</summary>
public sealed class ScriptedTarget(PlatformConfig platform, Func<Op, Outcome> apply) : IReplayTarget
{
    public SystemState State { get; init; } = new() { Platform = platform };

    /// <summary>How many ops the runner applied.</summary>
    public int Applied { get; private set; }

    public Outcome Apply(Op op)
    {
        Applied++;
        return apply(op);
    }
}
