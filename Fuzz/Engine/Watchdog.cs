using System.Diagnostics;

namespace DmaVerify.Fuzz.Engine;

/// <summary>
/// The per-input timeout (-timeout): a background thread that looks at the running input's start
/// time every 100 ms. A .NET thread cannot be aborted, so on expiry it reports through
/// <paramref name="onTimeout"/> (which writes the timeout artifact) and ends the process, as
/// libFuzzer does; the corpus is safe because every corpus write is atomic.
/// </summary>
public sealed class Watchdog : IDisposable
{
    private readonly long _limitTicks;
    private readonly Action _onTimeout;
    private readonly Thread _thread;
    private long _startedAt; // 0 = no input running
    private volatile bool _stopped;

    public Watchdog(int timeoutSeconds, Action onTimeout)
    {
        _limitTicks = (long)timeoutSeconds * Stopwatch.Frequency;
        _onTimeout = onTimeout;
        _thread = new Thread(Watch) { IsBackground = true, Name = "fuzz watchdog" };
        _thread.Start();
    }

    /// <summary>A watchdog for runs over named inputs (run-files mode, merge): on expiry it says
    /// which input hung and ends the process with -timeout_exitcode; the file is already on disk.</summary>
    public static Watchdog ForNamedInputs(FuzzOptions options, TextWriter log, Func<string> running) =>
        new(options.Timeout, () =>
        {
            try
            {
                log.WriteLine($"=={Environment.ProcessId}== ERROR: DmaVerify fuzz: timeout after {options.Timeout} seconds running {running()}");
                log.WriteLine("SUMMARY: DmaVerify fuzz: timeout");
                log.Flush();
            }
            finally
            {
                Environment.Exit(options.TimeoutExitCode);
            }
        });

    public void InputStarted() => Volatile.Write(ref _startedAt, Stopwatch.GetTimestamp());

    public void InputFinished() => Volatile.Write(ref _startedAt, 0);

    private void Watch()
    {
        while (!_stopped)
        {
            Thread.Sleep(100);
            long started = Volatile.Read(ref _startedAt);
            if (started != 0 && Stopwatch.GetTimestamp() - started > _limitTicks && !_stopped)
            {
                _onTimeout();
                return;
            }
        }
    }

    public void Dispose() => _stopped = true;
}
