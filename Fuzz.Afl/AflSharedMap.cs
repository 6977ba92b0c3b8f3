using DmaVerify.FuzzRuntime;

namespace DmaVerify.Fuzz.Afl;

/// <summary>Attaches afl-fuzz's coverage bitmap (SysV shared memory named by
/// <c>__AFL_SHM_ID</c>) as the <see cref="CoverageMap"/>.</summary>
internal static unsafe class AflSharedMap
{
    public const string ShmIdVariable = "__AFL_SHM_ID";

    /// <summary>Attaches the segment when the variable is set; false (probes keep writing to
    /// the dummy map) when it is not. Throws when it is set but cannot be attached.</summary>
    public static bool TryAttach()
    {
        string? value = Environment.GetEnvironmentVariable(ShmIdVariable);
        if (string.IsNullOrEmpty(value)) return false;
        if (!int.TryParse(value, out int id))
            throw new IOException($"{ShmIdVariable}='{value}' is not a shared-memory id");
        void* address = Posix.shmat(id, null, 0);
        if (address == (void*)-1)
            throw Posix.Error($"shmat({ShmIdVariable}={id})");
        CoverageMap.Attach((byte*)address);
        return true;
    }

    /// <summary>Zeroes the map: used after a runner's warm-up run, so one-time edges (static
    /// constructors) do not show up in the next test case's trace.</summary>
    public static void Clear()
    {
        new Span<byte>(CoverageMap.Map, CoverageMap.Size).Clear();
        CoverageMap.PreviousLocation = 0;
    }
}
