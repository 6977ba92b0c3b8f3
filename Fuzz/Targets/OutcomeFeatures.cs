using DmaVerify.Contracts;
using DmaVerify.FuzzRuntime;
using DmaVerify.Model;

namespace DmaVerify.Fuzz.Targets;

/// <summary>
/// Coverage the target itself reports: each step's (op kind, outcome class) pair is one map
/// entry, and its hit count (how many steps had that pair) is bucketed by the engine like any
/// edge count. This is what guides the engine when the model and the implementation run
/// uninstrumented; with instrumented copies it adds to their edges. The entries are not chained
/// into (previous, current) edges: pairs of outcomes would multiply the features and flood the
/// corpus with inputs that differ only in the order of unremarkable steps. Ids live in the upper
/// half of the map, which the instrumenter's hash also uses; a collision costs precision only.
/// </summary>
public static unsafe class OutcomeFeatures
{
    public static void Record(Op op, Outcome outcome)
    {
        int opClass = op switch
        {
            Map => 1, Unmap => 2, MapSg => 3, UnmapSg => 4, AllocCoherent => 5, FreeCoherent => 6, MapResource => 7,
            UnmapResource => 8, IommuMap => 9, IommuUnmap => 10, DeviceAccess => 11, SetupMsi => 12, Flush => 13,
            Tick => 14, AllocDomain => 15, Attach => 16, SetDomainType => 17, SetMask => 18, _ => 0,
        };
        int outcomeClass = outcome switch
        {
            Failed f => 16 + (int)f.Kind,
            Done => 1, Mapped { Bounce: null } => 2, Mapped => 3, SgMapped s => 4 + Math.Min(s.Segments.Count, 4),
            DomainAllocated => 9, Unmapped => 10, Accessed a => 11 + Math.Min(a.Chunks.Count, 3),
            _ => 0,
        };
        CoverageMap.Map[0x8000 | (opClass * 64 + outcomeClass) * 0x9E5 & 0x7FFF]++;
    }

    /// <summary>The probe instrumented code runs, by hand.</summary>
    public static void Hit(int id)
    {
        CoverageMap.Map[id ^ CoverageMap.PreviousLocation]++;
        CoverageMap.PreviousLocation = id >> 1;
    }
}
