using System.Diagnostics;

namespace DmaVerify.Fuzz.Afl;

/// <summary>
/// The process afl-fuzz starts: speaks AFL's fork-server protocol on fd 198 (control, from
/// afl-fuzz) and fd 199 (status, to afl-fuzz) — the old-style hello (0, no options, map size
/// 65,536), then per run the runner's pid and the run's wait status
/// (docs/fuzz-afl.md#the-fork-server-protocol) — and delegates every run to an <see
/// cref="AflRunner"/> process. Reporting the runner's pid means afl-fuzz's timeout kill hits the
/// runner, not this server; when the runner dies the server reports how it died and starts a fresh
/// one for the next run.
/// </summary>
internal sealed class AflForkServer(ProcessStartInfo runnerCommand, TextWriter error)
{
    public const int ControlFd = 198;
    public const int StatusFd = 199;

    private Runner? _runner;

    public static bool AflIsPresent => Posix.IsOpen(ControlFd) && Posix.IsOpen(StatusFd);

    public int Serve()
    {
        // The runners must not hold afl-fuzz's pipes (it would not notice this server dying).
        Posix.SetCloseOnExec(ControlFd, true);
        Posix.SetCloseOnExec(StatusFd, true);

        if (!TryStartRunner()) return 3;
        if (!Posix.TryWriteWord(StatusFd, 0)) return 0; // hello

        while (Posix.TryReadWord(ControlFd, out _))
        {
            if (_runner is null && !TryStartRunner()) return 3;
            var runner = _runner!;
            if (!Posix.TryWriteWord(StatusFd, runner.Pid)) break;

            int status;
            if (Posix.TryWriteWord(runner.Control, 1) && Posix.TryReadWord(runner.Status, out int reported))
            {
                status = reported;
            }
            else
            {
                status = runner.WaitForDeath();
                _runner = null;
            }
            if (!Posix.TryWriteWord(StatusFd, status)) break;
        }
        _runner?.Dispose();
        return 0;
    }

    private bool TryStartRunner()
    {
        try
        {
            _runner = Runner.Start(runnerCommand);
            return true;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            error.WriteLine($"verify fuzz-afl: cannot start the runner process: {e.Message}");
            return false;
        }
    }

    /// <summary>A runner process and the server's ends of its two pipes.</summary>
    private sealed class Runner : IDisposable
    {
        private readonly Process _process;
        private bool _disposed;

        private Runner(Process process, int control, int status)
        {
            _process = process;
            Control = control;
            Status = status;
        }

        public int Pid => _process.Id;
        public int Control { get; }
        public int Status { get; }

        public static Runner Start(ProcessStartInfo template)
        {
            var control = Posix.Pipe();
            var status = Posix.Pipe();
            // Only the runner's ends are inherited.
            Posix.SetCloseOnExec(control.Write, true);
            Posix.SetCloseOnExec(status.Read, true);
            Posix.SetCloseOnExec(control.Read, false);
            Posix.SetCloseOnExec(status.Write, false);

            var info = new ProcessStartInfo(template.FileName) { UseShellExecute = false };
            foreach (var arg in template.ArgumentList) info.ArgumentList.Add(arg);
            foreach (var (key, value) in template.Environment) info.Environment[key] = value;
            info.Environment[AflRunner.ControlVariable] = control.Read.ToString();
            info.Environment[AflRunner.StatusVariable] = status.Write.ToString();

            Process process;
            try
            {
                process = Process.Start(info) ?? throw new InvalidOperationException($"{info.FileName} did not start");
            }
            finally
            {
                Posix.close(control.Read);
                Posix.close(status.Write);
            }
            var runner = new Runner(process, control.Write, status.Read);
            if (!Posix.TryReadWord(runner.Status, out int ready) || ready != AflRunner.Ready)
            {
                int died = runner.WaitForDeath();
                throw new InvalidOperationException($"the runner exited before it was ready (wait status {died}); run the same command without afl-fuzz to see why");
            }
            return runner;
        }

        /// <summary>Waits for the runner to exit (it has closed its pipe end) and returns its
        /// wait status.</summary>
        public int WaitForDeath()
        {
            if (!_process.WaitForExit(5000))
            {
                _process.Kill();
                _process.WaitForExit();
            }
            int status = WaitStatus.OfDeadRunner(_process.ExitCode);
            Dispose();
            return status;
        }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            Posix.close(Control);
            Posix.close(Status);
            if (!_process.HasExited)
            {
                try { _process.Kill(); } catch (InvalidOperationException) { }
            }
            _process.Dispose();
        }
    }
}
