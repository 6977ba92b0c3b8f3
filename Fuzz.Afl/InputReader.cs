using System.Runtime.InteropServices;

namespace DmaVerify.Fuzz.Afl;

/// <summary>
/// Reads the current test case: the file afl-fuzz substitutes for <c>@@</c>, or standard input.
/// AFL++ rewrites its <c>.cur_input</c> file (our stdin) in place before each run, so stdin is
/// read with <c>pread</c> from offset 0 each time; a non-seekable stdin (a pipe) is read to its
/// end once.
/// </summary>
internal sealed unsafe class InputReader(string? path)
{
    private byte[] _buffer = new byte[64 * 1024];

    public ReadOnlySpan<byte> Next()
    {
        if (path is not null) return File.ReadAllBytes(path);

        int length = 0;
        bool seekable = true;
        while (true)
        {
            if (length == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
            nint n;
            fixed (byte* p = &_buffer[length])
                n = seekable ? Posix.pread(0, p, _buffer.Length - length, length) : Posix.read(0, p, _buffer.Length - length);
            if (n > 0) { length += (int)n; continue; }
            if (n == 0) break;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Posix.EINTR) continue;
            if (errno == Posix.ESPIPE && seekable) { seekable = false; continue; }
            throw Posix.Error("reading the input from stdin");
        }
        return _buffer.AsSpan(0, length);
    }
}
