using System.Collections.Concurrent;
using System.Diagnostics;
using DmaVerify.FuzzRuntime;
using DmaVerify.Native.Loading;

namespace DmaVerify.Native.Isolation;

/// <summary>
/// Runs an allocator in a host process (<see cref="AllocatorHost"/>) and forwards calls to it,
/// one at a time. A call the host does not answer because it died (a signal: SIGSEGV, SIGABRT
/// from an assert, ...) throws <see cref="AllocatorCrashedException"/> naming the signal and the
/// call; a call that does not return within the timeout gets the host killed and throws
/// <see cref="AllocatorHungException"/>. Either way every instance of that host is gone (calls on
/// them throw the same message again) and the next <see cref="Create"/> starts a fresh host, so
/// a campaign goes on. Edges the host reports are added to <see cref="CoverageMap.Map"/>.
/// </summary>
internal sealed class AllocatorHostClient : IDisposable
{
    private readonly AllocatorSpec _spec;
    private readonly IReadOnlyList<string> _command;
    private readonly TimeSpan _timeout;
    private readonly Lock _gate = new();
    private readonly Dictionary<int, Exception> _ends = [];
    private readonly ConcurrentQueue<(int Generation, uint Handle)> _orphans = new();
    private Session? _session;
    private int _generation = 1;
    private bool _disposed;

    /// <summary>Starts the first host; throws <see cref="AllocatorLoadException"/> when it cannot
    /// load the allocator (the host's one-line reason) or does not start.</summary>
    public AllocatorHostClient(AllocatorSpec spec, IReadOnlyList<string> command, TimeSpan timeout)
    {
        if (command.Count == 0) throw new ArgumentException("the host command is empty", nameof(command));
        _spec = spec;
        _command = command;
        _timeout = timeout;
        _session = Start(out var capabilities, restart: false);
        Capabilities = capabilities;
    }

    public AllocatorCapabilities Capabilities { get; }

    /// <summary>Hosts started again after one died.</summary>
    public int Restarts { get; private set; }

    public HostedIovaAllocator Create(ulong startPfn, int granuleShift)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_session is null)
            {
                _session = Start(out _, restart: true);
                Restarts++;
            }
            ulong handle = Exchange(_session, new HostWire.Request(IovaCall.Create, 0, startPfn, (ulong)granuleShift, 0), null);
            return new HostedIovaAllocator(this, _generation, (uint)handle, startPfn, granuleShift);
        }
    }

    public ulong Call(int generation, uint handle, IovaCall call, ulong a, ulong b, ulong c, List<AllocatorRange>? ranges = null)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (generation != _generation || _session is null) throw Ended(generation);
            while (_orphans.TryDequeue(out var orphan))
                if (orphan.Generation == _generation)
                    Exchange(_session, new HostWire.Request(IovaCall.Destroy, orphan.Handle, 0, 0, 0), null);
            return Exchange(_session!, new HostWire.Request(call, handle, a, b, c), ranges);
        }
    }

    /// <summary>An instance whose proxy was collected: destroyed in the host before the next call.</summary>
    public void Orphan(int generation, uint handle) => _orphans.Enqueue((generation, handle));

    /// <summary>The exception that ended an earlier host, again.</summary>
    private Exception Ended(int generation)
    {
        if (_ends.TryGetValue(generation, out var end))
            return end is AllocatorHungException ? new AllocatorHungException(end.Message) : new AllocatorCrashedException(end.Message);
        return new InvalidOperationException($"allocator instance of host {generation} is unknown (current host {_generation})");
    }

    private ulong Exchange(Session session, HostWire.Request q, List<AllocatorRange>? ranges)
    {
        var text = new IovaCallText(q.Call, q.A, q.B, q.C);
        byte status;
        string? message = null;
        ulong result;
        session.Arm(text);
        try
        {
            HostWire.WriteRequest(session.Writer, q);
            status = session.Reader.ReadByte();
            if (status != HostWire.Ok) message = HostWire.ReadMessage(session.Reader);
            result = session.Reader.ReadUInt64();
            if (q.Call == IovaCall.Ranges)
            {
                int count = session.Reader.ReadInt32();
                for (int i = 0; i < count; i++)
                {
                    ulong lo = session.Reader.ReadUInt64(), hi = session.Reader.ReadUInt64();
                    var kind = (AllocatorRangeKind)session.Reader.ReadByte();
                    ranges?.Add(new AllocatorRange(lo, hi, kind));
                }
            }
            ReadCoverage(session.Reader);
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or ObjectDisposedException)
        {
            throw Died(session, text);
        }
        finally
        {
            session.Disarm();
        }
        return status switch
        {
            HostWire.Ok => result,
            HostWire.Refused => throw new AllocatorRefusedException(message!),
            _ => throw new AllocatorCrashedException($"the allocator {_spec.Name} threw in {text.Format(Capabilities.Style)}: {message}"),
        };
    }

    private unsafe void ReadCoverage(BinaryReader reader)
    {
        int pairs = reader.ReadInt32();
        byte* map = CoverageMap.Map;
        for (int i = 0; i < pairs; i++)
        {
            ushort index = reader.ReadUInt16();
            byte hits = reader.ReadByte();
            int sum = map[index] + hits;
            map[index] = (byte)Math.Min(sum, 255);
        }
        uint reached = reader.ReadUInt32();
        if (Capabilities.CoverageEdges > 0) ForeignEdges.Report(Capabilities.CoverageEdges, reached);
    }

    /// <summary>The host died during <paramref name="call"/> (or was killed for hanging in an
    /// earlier one): records how, forgets the host, and returns the finding to throw.</summary>
    private Exception Died(Session session, IovaCallText call)
    {
        string? hungIn = session.HungIn?.Format(Capabilities.Style);
        int exit = session.WaitForExit();
        string output = session.LastOutput();
        string message = hungIn is not null
            ? $"the allocator {_spec.Name} did not return from {hungIn} within {_timeout.TotalSeconds:0.#} s; its host process was killed"
            : $"the allocator {_spec.Name} crashed ({HowItEnded(exit)}) in {call.Format(Capabilities.Style)}" + (output.Length > 0 ? $"; it printed: {output}" : "");
        Exception end = hungIn is not null ? new AllocatorHungException(message) : new AllocatorCrashedException(message);
        _ends[_generation] = end;
        _generation++;
        _session = null;
        session.Dispose();
        return end;
    }

    /// <summary>.NET reports a child killed by signal n as exit code 128 + n.</summary>
    internal static string HowItEnded(int exitCode) => exitCode switch
    {
        > 128 and < 160 => $"{SignalName(exitCode - 128)}, signal {exitCode - 128}",
        _ => $"its host exited with code {exitCode}",
    };

    private static string SignalName(int signal) => signal switch
    {
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        _ => $"signal {signal}",
    };

    /// <summary>Starts a host. A host that cannot be started at all is a tool failure
    /// (<see cref="AllocatorLoadException"/>); one that ends or refuses before it is ready is the
    /// library's doing: bad input the first time, a crash finding after it loaded before
    /// (<paramref name="restart"/>: a load-time constructor that crashes only sometimes).</summary>
    private Session Start(out AllocatorCapabilities capabilities, bool restart)
    {
        var info = new ProcessStartInfo(_command[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in _command.Skip(1)) info.ArgumentList.Add(arg);
        info.ArgumentList.Add(AllocatorHost.Verb);
        info.ArgumentList.Add(_spec.ToString());
        info.Environment["DOTNET_DbgEnableMiniDump"] = "0"; // a crashing allocator is a finding, not a dump
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("Process.Start returned null");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new AllocatorLoadException($"{_spec}: cannot start the allocator host ({string.Join(' ', _command)} {AllocatorHost.Verb}): {e.Message}");
        }
        var session = new Session(process, _timeout);
        // Loading may take a while on a loaded machine; the call timeout starts after the hello.
        session.Arm(new IovaCallText(IovaCall.Create), TimeSpan.FromSeconds(Math.Max(60, _timeout.TotalSeconds)));
        string? error;
        try
        {
            capabilities = HostWire.ReadHello(session.Reader, out error);
        }
        catch (Exception e) when (e is IOException or EndOfStreamException)
        {
            int exit = session.WaitForExit();
            string output = session.LastOutput();
            session.Dispose();
            string message = $"{_spec}: the allocator host ended before it was ready ({HowItEnded(exit)})" + (output.Length > 0 ? $": {output}" : "");
            throw restart ? new AllocatorCrashedException(message) : new AllocatorLoadException(message);
        }
        finally
        {
            session.Disarm();
        }
        if (error is not null)
        {
            session.Dispose();
            throw restart ? new AllocatorCrashedException($"the allocator host refused to load it again: {error}") : new AllocatorLoadException(error);
        }
        return session;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _session?.Dispose();
            _session = null;
        }
    }

    /// <summary>One host process: its pipes, the last lines it printed, and the call watchdog.</summary>
    private sealed class Session : IDisposable
    {
        private readonly Process _process;
        private readonly TimeSpan _timeout;
        private readonly Timer _watchdog;
        private readonly Queue<string> _output = new();
        private readonly Lock _killGate = new();
        private bool _inCall, _disposed;
        private long _armedAt;
        private TimeSpan _armedFor;
        private IovaCallText _current;

        public Session(Process process, TimeSpan timeout)
        {
            _process = process;
            _timeout = timeout;
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not { Length: > 0 } line) return;
                lock (_output)
                {
                    _output.Enqueue(line);
                    while (_output.Count > 6) _output.Dequeue();
                }
            };
            process.BeginErrorReadLine();
            Writer = new BinaryWriter(new BufferedStream(process.StandardInput.BaseStream, 64), HostWire.Utf8);
            Reader = new BinaryReader(new BufferedStream(process.StandardOutput.BaseStream, 4096), HostWire.Utf8);
            _watchdog = new Timer(_ => OnTimer(), null, Timeout.Infinite, Timeout.Infinite);
        }

        public BinaryWriter Writer { get; }
        public BinaryReader Reader { get; }

        /// <summary>The call the watchdog killed the host in, if it did.</summary>
        public IovaCallText? HungIn { get; private set; }

        public void Arm(IovaCallText call, TimeSpan? limit = null)
        {
            lock (_killGate)
            {
                _inCall = true;
                _current = call;
                _armedFor = limit ?? _timeout;
                _armedAt = Stopwatch.GetTimestamp();
                _watchdog.Change(_armedFor, Timeout.InfiniteTimeSpan);
            }
        }

        public void Disarm()
        {
            lock (_killGate)
            {
                _inCall = false;
                if (!_disposed) _watchdog.Change(Timeout.Infinite, Timeout.Infinite);
            }
        }

        private void OnTimer()
        {
            lock (_killGate)
            {
                if (!_inCall || _disposed) return;
                var left = _armedFor - Stopwatch.GetElapsedTime(_armedAt);
                if (left > TimeSpan.Zero)
                {
                    _watchdog.Change(left, Timeout.InfiniteTimeSpan); // the timer fired a little early
                    return;
                }
                HungIn = _current;
                try { _process.Kill(); }
                catch (InvalidOperationException) { /* already gone */ }
            }
        }

        /// <summary>Waits for the host to end (killing it after 2 s) and returns its exit code.</summary>
        public int WaitForExit()
        {
            if (!_process.WaitForExit(2000))
            {
                try { _process.Kill(); } catch (InvalidOperationException) { }
                _process.WaitForExit();
            }
            _process.WaitForExit(); // drains the stderr reader
            return _process.ExitCode;
        }

        /// <summary>The host's last lines on stderr, joined, at most 400 characters.</summary>
        public string LastOutput()
        {
            string text;
            lock (_output) text = string.Join(" | ", _output);
            return text.Length <= 400 ? text : "…" + text[^399..];
        }

        public void Dispose()
        {
            lock (_killGate)
            {
                if (_disposed) return;
                _disposed = true;
                _watchdog.Dispose();
            }
            try { Writer.Dispose(); } catch (IOException) { /* the host is gone */ }
            if (!_process.WaitForExit(2000))
            {
                try { _process.Kill(); } catch (InvalidOperationException) { }
                _process.WaitForExit();
            }
            _process.Dispose();
        }
    }
}
