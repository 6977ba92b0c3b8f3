using DmaVerify.Fuzz.Targets;

namespace DmaVerify.Fuzz.Engine;

/// <summary>The input being run, copied so the watchdog can write it out if it hangs.</summary>
public sealed class CurrentInput
{
    private byte[] _data = new byte[256];
    private int _length;

    public void Set(ReadOnlySpan<byte> data)
    {
        if (_data.Length < data.Length) _data = new byte[data.Length * 2];
        data.CopyTo(_data);
        _length = data.Length;
    }

    public byte[] Snapshot() => _data.AsSpan(0, _length).ToArray();
}

/// <summary>Runs one input on the target with a clean coverage map, under the watchdog; returns
/// what it threw (a finding or a crash), or null.</summary>
public sealed class Executor(IFuzzTarget target, CoverageFeatures coverage, Watchdog? watchdog, CurrentInput current)
{
    public Exception? Execute(ReadOnlySpan<byte> data)
    {
        current.Set(data);
        coverage.Clear();
        watchdog?.InputStarted();
        try
        {
            target.Run(data);
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
        finally
        {
            watchdog?.InputFinished();
        }
    }
}
