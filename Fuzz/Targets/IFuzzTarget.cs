namespace DmaVerify.Fuzz.Targets;

/// <summary>
/// One fuzz target: runs one input. A bug is reported by throwing (a <see cref="FuzzFinding"/> for
/// an oracle's verdict, anything else for a crash of the code under test); returning means the
/// input passed. Targets are single-threaded and keep no state between inputs.
/// </summary>
public interface IFuzzTarget
{
    string Name { get; }

    void Run(ReadOnlySpan<byte> data);
}
