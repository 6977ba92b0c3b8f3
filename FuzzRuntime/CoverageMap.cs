using System.Runtime.InteropServices;

namespace DmaVerify.FuzzRuntime;

/// <summary>
/// The AFL edge map that instrumented code writes to. Each probe does
/// <c>Map[id ^ PreviousLocation]++; PreviousLocation = id &gt;&gt; 1;</c> (ids are below
/// <see cref="Size"/>, so no bounds check is needed). Until a runner attaches, <see cref="Map"/>
/// points at a private dummy map, so instrumented code runs safely without a fuzzer
/// (SharpFuzz issue #34 is the crash this avoids). Runners attach their own buffer: the
/// in-process engine a pinned array, the AFL++ adapter the shared-memory segment.
/// </summary>
public static unsafe class CoverageMap
{
    /// <summary>AFL's default map size (MAP_SIZE = 2^16).</summary>
    public const int Size = 1 << 16;

    /// <summary>The map probes write into. Public and a plain field because the instrumenter
    /// emits <c>ldsfld</c> on it.</summary>
    public static byte* Map = AllocateDummy();

    /// <summary>The previous edge id shifted right by one (AFL's prev_location).</summary>
    public static int PreviousLocation;

    private static readonly byte* Dummy = Map;

    /// <summary>Points the probes at <paramref name="map"/> (at least <see cref="Size"/> bytes,
    /// which the caller keeps alive and fixed until <see cref="Detach"/>).</summary>
    public static void Attach(byte* map)
    {
        ArgumentNullException.ThrowIfNull(map);
        Map = map;
        PreviousLocation = 0;
    }

    /// <summary>Points the probes back at the dummy map.</summary>
    public static void Detach()
    {
        Map = Dummy;
        PreviousLocation = 0;
    }

    private static byte* AllocateDummy()
    {
        // Never freed: it lives as long as the process, like AFL's __afl_area_initial.
        var p = (byte*)NativeMemory.AllocZeroed(Size);
        return p;
    }
}
