using System.Text;

namespace DmaVerify.Fuzz.Instrumentation;

/// <summary>
/// Edge-probe ids: a stable hash of (assembly identity, method token, IL offset), masked to the
/// coverage map. Stable across runs and machines (no random sequence, no MVID), and seeded by the
/// assembly's name so two assemblies do not share an id sequence (SharpFuzz's per-process
/// generator gives every separately instrumented assembly the same ids; docs/fuzz-afl.md#edge-ids).
/// </summary>
public readonly struct EdgeIds
{
    private readonly uint _seed;

    private EdgeIds(uint seed) => _seed = seed;

    /// <summary>Ids for the module <paramref name="moduleName"/> of the assembly
    /// <paramref name="assemblyName"/> (simple name; version and MVID deliberately left out, so
    /// a rebuild of the same code keeps its ids).</summary>
    public static EdgeIds For(string assemblyName, string moduleName) =>
        new(Fnv1a(Encoding.UTF8.GetBytes(assemblyName + "\0" + moduleName)));

    /// <summary>The id of the block at <paramref name="ilOffset"/> (in the original method body)
    /// of the method with metadata token <paramref name="methodToken"/>; in [0, mapSize).</summary>
    public int Of(uint methodToken, int ilOffset, int mapSize = FuzzRuntime.CoverageMap.Size)
    {
        if (mapSize <= 0 || (mapSize & (mapSize - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(mapSize), mapSize, "the map size must be a power of two");
        uint h = Mix(_seed ^ Mix(methodToken) ^ Mix((uint)ilOffset * 0x9E3779B1u + 0x7F4A7C15u));
        return (int)(h & (uint)(mapSize - 1));
    }

    private static uint Fnv1a(ReadOnlySpan<byte> bytes)
    {
        uint h = 2166136261u;
        foreach (byte b in bytes)
            h = (h ^ b) * 16777619u;
        return h;
    }

    /// <summary>MurmurHash3's finalizer: every input bit affects every output bit.</summary>
    private static uint Mix(uint h)
    {
        h ^= h >> 16;
        h *= 0x85EBCA6Bu;
        h ^= h >> 13;
        h *= 0xC2B2AE35u;
        h ^= h >> 16;
        return h;
    }
}
