using System.Runtime.InteropServices;

namespace DmaVerify.Fuzz.Engine;

/// <summary>
/// Why and when a fuzzing process should stop early, as a token the engine checks between
/// inputs: SIGINT or SIGTERM, or, for a worker of `-jobs`, its parent going away. A worker's
/// standard input is a pipe from its parent; the kernel closes it when the parent exits for
/// any reason (kill -9 included), so end-of-file on it means "stop". The engine then finishes
/// the input it is running (a finding is written whole) and returns; if that input hangs, the
/// process ends after <see cref="Grace"/>. A second signal ends it at once.
/// </summary>
public sealed class StopRequest : IDisposable
{
    /// <summary>Set by the jobs launcher in its workers' environment.</summary>
    public const string WorkerVariable = "DMAVERIFY_FUZZ_WORKER";

    /// <summary>How long a stopping process waits for the running input before it ends anyway.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _stop = new();
    private readonly TextWriter _log;
    private readonly List<PosixSignalRegistration> _signals = [];
    private int _signal;

    private StopRequest(TextWriter log) => _log = log;

    public CancellationToken Token => _stop.Token;

    /// <summary>128 + the signal that asked to stop (130 for SIGINT), or null.</summary>
    public int? SignalExitCode => _signal == 0 ? null : 128 + _signal;

    /// <summary>Listens for SIGINT and SIGTERM, and, in a worker, for the parent's pipe to close.</summary>
    public static StopRequest Install(TextWriter log)
    {
        var request = new StopRequest(log);
        foreach (var (signal, number) in new[] { (PosixSignal.SIGINT, 2), (PosixSignal.SIGTERM, 15) })
            request._signals.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true; // we stop ourselves, after the running input
                request.OnSignal(signal, number);
            }));
        if (Environment.GetEnvironmentVariable(WorkerVariable) == "1")
            new Thread(request.WatchParent) { IsBackground = true, Name = "parent watch" }.Start();
        return request;
    }

    private void OnSignal(PosixSignal signal, int number)
    {
        if (Interlocked.CompareExchange(ref _signal, number, 0) != 0)
        {
            Environment.Exit(128 + number); // asked twice: now
            return;
        }
        Stop($"{signal}: stopping after the running input (send it again to stop at once)", 128 + number);
    }

    private void WatchParent()
    {
        try
        {
            using var input = Console.OpenStandardInput();
            var buffer = new byte[64];
            while (input.Read(buffer, 0, buffer.Length) > 0) { }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException) { }
        Stop("the jobs launcher is gone: stopping after the running input", exitCode: 143);
    }

    private void Stop(string why, int exitCode)
    {
        try { _log.WriteLine($"INFO: {why}"); } catch (Exception e) when (e is IOException or ObjectDisposedException) { }
        _stop.Cancel();
        // An input that hangs would keep us forever: end after the grace period.
        new Thread(() => { Thread.Sleep(Grace); Environment.Exit(exitCode); }) { IsBackground = true, Name = "stop grace" }.Start();
    }

    public void Dispose()
    {
        foreach (var registration in _signals) registration.Dispose();
        _stop.Dispose();
    }
}
