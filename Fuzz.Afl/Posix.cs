using System.Runtime.InteropServices;

namespace DmaVerify.Fuzz.Afl;

/// <summary>The few libc calls the adapter needs: raw fd I/O (AFL's pipes and its stdin file,
/// whose shared offset .NET streams would not respect), pipes for the runner, SysV shared memory.</summary>
internal static unsafe partial class Posix
{
    public const int FGetFd = 1, FSetFd = 2, FdCloexec = 1;
    public const int EINTR = 4, ESPIPE = 29;

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, byte* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint pread(int fd, byte* buffer, nint count, long offset);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, byte* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int pipe(int* fds);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport("libc", SetLastError = true)]
    public static partial void* shmat(int shmid, void* address, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int shmdt(void* address);

    public static bool IsOpen(int fd) => fcntl(fd, FGetFd, 0) != -1;

    public static void SetCloseOnExec(int fd, bool on)
    {
        int flags = fcntl(fd, FGetFd, 0);
        if (flags == -1) throw Error($"fcntl({fd}, F_GETFD)");
        fcntl(fd, FSetFd, on ? flags | FdCloexec : flags & ~FdCloexec);
    }

    /// <summary>Reads one little-endian 32-bit word; false at end of file (the writer is gone).</summary>
    public static bool TryReadWord(int fd, out int value)
    {
        int v = 0;
        int got = 0;
        while (got < 4)
        {
            nint n = read(fd, (byte*)&v + got, 4 - got);
            if (n > 0) { got += (int)n; continue; }
            if (n < 0 && Marshal.GetLastPInvokeError() == EINTR) continue;
            value = 0;
            return false;
        }
        value = v;
        return true;
    }

    /// <summary>Writes one little-endian 32-bit word; false when the reader is gone.</summary>
    public static bool TryWriteWord(int fd, int value)
    {
        int put = 0;
        while (put < 4)
        {
            nint n = write(fd, (byte*)&value + put, 4 - put);
            if (n > 0) { put += (int)n; continue; }
            if (n < 0 && Marshal.GetLastPInvokeError() == EINTR) continue;
            return false;
        }
        return true;
    }

    public static (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        if (pipe(fds) != 0) throw Error("pipe");
        return (fds[0], fds[1]);
    }

    public static IOException Error(string call) =>
        new($"{call} failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
}
