using System.Runtime.InteropServices;
using DmaVerify.FuzzRuntime;

namespace DmaVerify.Fuzz.Instrumentation;

/// <summary>
/// A pinned managed buffer attached as the <see cref="CoverageMap"/> for as long as this object
/// lives (disposing detaches it again). For in-process runners and tests; the AFL++ adapter
/// attaches afl-fuzz's shared memory instead. One map is attached per process at a time.
/// </summary>
public sealed unsafe class ManagedCoverageMap : IDisposable
{
    private readonly byte[] _bytes = GC.AllocateArray<byte>(CoverageMap.Size, pinned: true);
    private bool _attached;

    public ManagedCoverageMap()
    {
        CoverageMap.Attach((byte*)Marshal.UnsafeAddrOfPinnedArrayElement(_bytes, 0));
        _attached = true;
    }

    /// <summary>The hit counts, indexed by edge (id ^ previous location).</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>Zeroes the counts and the previous location (start of a new execution).</summary>
    public void Clear()
    {
        Array.Clear(_bytes);
        CoverageMap.PreviousLocation = 0;
    }

    /// <summary>Edges hit at least once since the last <see cref="Clear"/>.</summary>
    public int EdgesHit()
    {
        int n = 0;
        foreach (byte b in _bytes) if (b != 0) n++;
        return n;
    }

    public byte[] Snapshot() => (byte[])_bytes.Clone();

    public void Dispose()
    {
        if (!_attached) return;
        _attached = false;
        CoverageMap.Detach();
    }
}
