using System.Text;
using DmaVerify.Native.Loading;

namespace DmaVerify.Native.Isolation;

/// <summary>
/// The host protocol, little-endian over two pipes (the host's stdin and its original stdout):
/// <list type="bullet">
/// <item>hello, host → client, once: status (0 loaded, 1 not: then a message), then keeps-caches,
/// reports-ranges, call style (bytes) and coverage edges (u32);</item>
/// <item>request, client → host: call (byte, <see cref="IovaCall"/>), instance handle (u32), three
/// arguments (u64 each);</item>
/// <item>reply: status (0 done, 1 the allocator threw, 2 dv_iova_create refused; 1 and 2 then a
/// message), result (u64), for <see cref="IovaCall.Ranges"/> a count (u32) and that many ranges
/// (u64 lo, u64 hi, byte kind), then the edges the call hit (u32 count, each u16 map index and a
/// byte hit count) and the library's reached-edge total (u32).</item>
/// </list>
/// </summary>
internal static class HostWire
{
    public const byte Ok = 0, Threw = 1, Refused = 2;

    public static void WriteHello(BinaryWriter w, AllocatorCapabilities caps)
    {
        w.Write(Ok);
        w.Write(caps.KeepsCaches);
        w.Write(caps.ReportsRanges);
        w.Write((byte)caps.Style);
        w.Write(caps.CoverageEdges);
        w.Flush();
    }

    public static void WriteHelloError(BinaryWriter w, string message)
    {
        w.Write(Threw);
        w.Write(message);
        w.Flush();
    }

    /// <summary>The host's capabilities, or the reason it could not load the allocator.</summary>
    public static AllocatorCapabilities ReadHello(BinaryReader r, out string? error)
    {
        error = null;
        if (r.ReadByte() != Ok)
        {
            error = r.ReadString();
            return null!;
        }
        bool caches = r.ReadBoolean(), ranges = r.ReadBoolean();
        var style = (CallStyle)r.ReadByte();
        uint edges = r.ReadUInt32();
        return new AllocatorCapabilities(caches, ranges, edges, style);
    }

    public readonly record struct Request(IovaCall Call, uint Handle, ulong A, ulong B, ulong C);

    public static void WriteRequest(BinaryWriter w, in Request q)
    {
        w.Write((byte)q.Call);
        w.Write(q.Handle);
        w.Write(q.A);
        w.Write(q.B);
        w.Write(q.C);
        w.Flush();
    }

    /// <summary>False at the end of the stream (the client is gone).</summary>
    public static bool TryReadRequest(BinaryReader r, out Request q)
    {
        q = default;
        int call = r.BaseStream.ReadByte();
        if (call < 0) return false;
        q = new Request((IovaCall)call, r.ReadUInt32(), r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64());
        return true;
    }

    public static string ReadMessage(BinaryReader r) => r.ReadString();

    public static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
}
