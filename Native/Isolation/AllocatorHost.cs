using System.Runtime.InteropServices;
using DmaVerify.FuzzRuntime;
using DmaVerify.Native.Loading;
using DmaVerify.Optimized.Iova;
using Microsoft.Win32.SafeHandles;

namespace DmaVerify.Native.Isolation;

/// <summary>
/// The host process of an isolated allocator (<c>verify allocator-host SPEC</c>, started by
/// <see cref="AllocatorHostClient"/>): loads the allocator into itself, says hello, then serves
/// one call per request until its stdin closes (<see cref="HostWire"/>). If the allocator
/// crashes or hangs, only this process dies; the client reports it and starts another.
/// <para>The protocol runs on the process's original stdout; fd 1 is pointed at stderr before the
/// allocator loads, so a printf in C code cannot corrupt it. A pinned edge map is attached to
/// <see cref="CoverageMap"/> (an instrumented library, or an instrumented .NET allocator, counts
/// into it); after each call the entries it hit travel back with the reply and are cleared.</para>
/// </summary>
public static unsafe partial class AllocatorHost
{
    /// <summary>The hidden verb that starts a host: <c>verify allocator-host SPEC</c>.</summary>
    public const string Verb = "allocator-host";

    public static int Main(IReadOnlyList<string> args, TextWriter error)
    {
        if (args.Count != 1)
        {
            error.WriteLine($"verify {Verb}: expects one argument, the allocator (PATH.so or PATH.dll:Namespace.Type); it is started by DmaVerify itself");
            return 2;
        }
        int protocolFd = dup(1);
        if (protocolFd < 0 || dup2(2, 1) < 0)
        {
            error.WriteLine($"verify {Verb}: cannot set up its stdout (dup: errno {Marshal.GetLastPInvokeError()})");
            return 3;
        }
        using var output = new BufferedStream(new FileStream(new SafeFileHandle(protocolFd, ownsHandle: true), FileAccess.Write, 1), 4096);
        using var input = new BufferedStream(Console.OpenStandardInput(), 4096);
        return Serve(args[0], input, output);
    }

    /// <summary>Loads the allocator and serves calls until <paramref name="input"/> ends.</summary>
    internal static int Serve(string spec, Stream input, Stream output)
    {
        var writer = new BinaryWriter(output, HostWire.Utf8);
        var reader = new BinaryReader(input, HostWire.Utf8);
        IAllocatorSource source;
        try
        {
            source = Load(spec);
        }
        catch (AllocatorLoadException e)
        {
            HostWire.WriteHelloError(writer, e.Message);
            return 2;
        }
        var map = GC.AllocateArray<byte>(CoverageMap.Size, pinned: true);
        CoverageMap.Attach((byte*)Marshal.UnsafeAddrOfPinnedArrayElement(map, 0));
        bool scan = source.Capabilities.CoverageEdges > 0 || source.Capabilities.Style == CallStyle.Managed;
        HostWire.WriteHello(writer, source.Capabilities);

        try
        {
            ServeCalls(source, reader, writer, scan ? map : null);
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or ObjectDisposedException)
        {
            // The client went away mid-request: nothing is left to answer.
        }
        return 0;
    }

    private static void ServeCalls(IAllocatorSource source, BinaryReader reader, BinaryWriter writer, byte[]? map)
    {
        var instances = new Dictionary<uint, IIovaAllocator>();
        uint next = 1;
        var ranges = new List<AllocatorRange>();
        while (HostWire.TryReadRequest(reader, out var q))
        {
            ulong result = 0;
            byte status = HostWire.Ok;
            string? message = null;
            ranges.Clear();
            try
            {
                if (q.Call == IovaCall.Create)
                {
                    instances[next] = source.Create(q.A, (int)q.B);
                    result = next++;
                }
                else if (instances.TryGetValue(q.Handle, out var allocator))
                {
                    result = Dispatch(source, instances, q, allocator, ranges);
                }
                else
                {
                    status = HostWire.Threw;
                    message = $"no allocator instance {q.Handle} in the host";
                }
            }
            catch (AllocatorRefusedException e)
            {
                status = HostWire.Refused;
                message = e.Message;
            }
            catch (Exception e)
            {
                status = HostWire.Threw;
                message = $"{e.GetType().Name}: {e.Message}";
            }
            writer.Write(status);
            if (message is not null) writer.Write(message);
            writer.Write(result);
            if (q.Call == IovaCall.Ranges)
            {
                writer.Write(ranges.Count);
                foreach (var r in ranges)
                {
                    writer.Write(r.PfnLo);
                    writer.Write(r.PfnHi);
                    writer.Write((byte)r.Kind);
                }
            }
            WriteCoverage(writer, map, source);
            writer.Flush();
        }
    }

    private static ulong Dispatch(IAllocatorSource source, Dictionary<uint, IIovaAllocator> instances, in HostWire.Request q, IIovaAllocator a, List<AllocatorRange> ranges)
    {
        switch (q.Call)
        {
            case IovaCall.Destroy:
                instances.Remove(q.Handle);
                source.Destroy(a);
                return 0;
            case IovaCall.Alloc: return a.Alloc(q.A, q.B, q.C != 0);
            case IovaCall.Free: return a.Free(q.A) ? 1UL : 0;
            case IovaCall.AllocFast: return a.AllocFast(q.A, q.B, q.C != 0);
            case IovaCall.FreeFast: return a.FreeFast(q.A, q.B) ? 1UL : 0;
            case IovaCall.Reserve: return a.Reserve(q.A, q.B) ? 1UL : 0;
            case IovaCall.FlushCaches:
                a.FlushCaches();
                return 0;
            case IovaCall.Ranges:
                if (a is IAllocatorView view) ranges.AddRange(view.OwnRanges());
                else ranges.AddRange(a.Ranges().Select(r => new AllocatorRange(r.PfnLo, r.PfnHi, r.Reserved ? AllocatorRangeKind.Reserved : AllocatorRangeKind.Allocated)));
                return (ulong)ranges.Count;
            default:
                throw new InvalidOperationException($"unknown call {(byte)q.Call}");
        }
    }

    /// <summary>The edges the call hit (then cleared) and the library's reached total.</summary>
    private static void WriteCoverage(BinaryWriter writer, byte[]? map, IAllocatorSource source)
    {
        if (map is null)
        {
            writer.Write(0);
            writer.Write(0u);
            return;
        }
        var span = map.AsSpan();
        int count = 0;
        for (int at = span.IndexOfAnyExcept((byte)0); at >= 0; at = Next(span, at)) count++;
        writer.Write(count);
        for (int at = span.IndexOfAnyExcept((byte)0); at >= 0; at = Next(span, at))
        {
            writer.Write((ushort)at);
            writer.Write(span[at]);
        }
        span.Clear();
        writer.Write(source.ReachedEdges);

        static int Next(Span<byte> span, int at)
        {
            int next = span[(at + 1)..].IndexOfAnyExcept((byte)0);
            return next < 0 ? -1 : at + 1 + next;
        }
    }

    private static IAllocatorSource Load(string text) =>
        AllocatorSpec.TryParse(text, out var spec, out string error) ? AllocatorSources.Load(spec) : throw new AllocatorLoadException(error);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int dup(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int dup2(int oldFd, int newFd);
}
