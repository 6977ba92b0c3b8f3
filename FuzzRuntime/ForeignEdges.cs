namespace DmaVerify.FuzzRuntime;

/// <summary>
/// How much of a plugged C allocator's own code the fuzzer has reached: its edges (compiled with
/// trace-pc-guard and counted by Native/coverage/dv_coverage.c) land in <see cref="CoverageMap"/>
/// like DmaVerify's, and the loader reports the library's totals here. Kept in this shared
/// assembly because the allocator may be driven from an instrumented load context while the
/// engine's caller reads the totals from the default one.
/// </summary>
public static class ForeignEdges
{
    private static long s_state; // edges << 32 | reached

    /// <summary>Records the library's totals (the highest reached count wins: a restarted host
    /// process starts counting again).</summary>
    public static void Report(uint edges, uint reached)
    {
        long current, next;
        do
        {
            current = Interlocked.Read(ref s_state);
            uint known = (uint)current;
            next = (long)edges << 32 | Math.Max(known, reached);
        } while (Interlocked.CompareExchange(ref s_state, next, current) != current);
    }

    /// <summary>(edges instrumented, edges reached); (0, 0) when no instrumented allocator ran.</summary>
    public static (uint Edges, uint Reached) Snapshot()
    {
        long state = Interlocked.Read(ref s_state);
        return ((uint)(state >> 32), (uint)state);
    }

    /// <summary>Forgets the totals (a new campaign).</summary>
    public static void Reset() => Interlocked.Exchange(ref s_state, 0);
}
