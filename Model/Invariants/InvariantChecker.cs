using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>
/// INV-01…INV-15 as code. <see cref="Check"/> judges a state on its own;
/// <see cref="CheckStep"/> judges one op with the states before and after it (the invariants
/// that speak of events: stale access, misuse, completeness, failure atomicity).
/// Works on any <see cref="SystemState"/>, including hand-built ones, and never throws: a
/// malformed state is reported as a violation of the invariant that could not be judged.
/// Each invariant lives in its own file (Inv01Overlap.cs …).
/// </summary>
public static partial class InvariantChecker
{
    public const string Inv01 = "INV-01", Inv02 = "INV-02", Inv03 = "INV-03", Inv04 = "INV-04", Inv05 = "INV-05",
        Inv06 = "INV-06", Inv07 = "INV-07", Inv08 = "INV-08", Inv09 = "INV-09", Inv10 = "INV-10",
        Inv11 = "INV-11", Inv12 = "INV-12", Inv13 = "INV-13", Inv14 = "INV-14", Inv15 = "INV-15";

    /// <summary>The state invariants, in id order. INV-10 and INV-11 are only about steps.</summary>
    private static readonly (string Id, Action<CheckContext, List<Violation>> Check)[] StateChecks =
    [
        (Inv01, CheckOverlap),
        (Inv02, CheckReservedRanges),
        (Inv03, CheckRegionMappings),
        (Inv04, CheckBypass),
        (Inv05, CheckLimits),
        (Inv06, CheckTranslation),
        (Inv07, CheckIsolation),
        (Inv08, CheckStaleState),
        (Inv09, CheckScatterGather),
        (Inv12, CheckUntrusted),
        (Inv13, CheckVirtio),
        (Inv14, CheckPageTables),
        (Inv15, CheckOrphans),
    ];

    public static IReadOnlyList<Violation> Check(SystemState state) => Check(state, null);

    /// <summary>
    /// <see cref="Check"/> with the rules that belong to one domain (its allocations, leaves,
    /// IOTLB, flush queue, sharing) judged only for the domains in <paramref name="judgedDomains"/>;
    /// every rule about devices, mappings and bounce slots still runs on the whole state. For a
    /// state whose other domains are known to be as they were in a state already judged clean
    /// (same content, same devices, same mapping parts naming them): see Harness's StateBaseline.
    /// </summary>
    public static IReadOnlyList<Violation> Check(SystemState state, IReadOnlySet<int>? judgedDomains)
    {
        var found = new List<Violation>();
        if (state is null)
        {
            found.Add(new Violation(Inv07, null, null, "there is no state to check"));
            return found;
        }
        CheckContext ctx;
        try
        {
            ctx = new CheckContext(state, judgedDomains);
        }
        catch (Exception e)
        {
            found.Add(new Violation(Inv07, null, null, $"the state could not be read ({e.GetType().Name}: {e.Message})"));
            return found;
        }
        if (!ctx.HasPlatform)
            found.Add(new Violation(Inv07, null, null, "the state names no platform; devices and IOMMUs cannot be resolved"));
        foreach (var (id, check) in StateChecks)
            Guarded(found, id, output => check(ctx, output));
        return found;
    }

    public static IReadOnlyList<Violation> CheckStep(SystemState before, Op op, Outcome outcome, SystemState after)
    {
        var found = new List<Violation>();
        if (before is null || after is null || op is null || outcome is null)
        {
            found.Add(new Violation(Inv15, null, null, "a step needs the state before, the op, its outcome and the state after"));
            return found;
        }
        CheckContext b, a;
        try
        {
            b = new CheckContext(before);
            a = new CheckContext(after);
        }
        catch (Exception e)
        {
            found.Add(new Violation(Inv15, null, null, $"the states could not be read ({e.GetType().Name}: {e.Message})"));
            return found;
        }
        Guarded(found, Inv08, output => CheckStaleAccess(b, op, outcome, output));
        Guarded(found, Inv10, output => CheckMisuse(b, a, op, outcome, output));
        Guarded(found, Inv11, output => CheckCompleteness(b, op, outcome, output));
        Guarded(found, Inv15, output => CheckAtomicity(b, a, op, outcome, output));
        return found;
    }

    /// <summary>Runs one invariant; an exception (a state too malformed to walk) becomes a
    /// violation of that invariant, after whatever it had already found.</summary>
    private static void Guarded(List<Violation> found, string id, Action<List<Violation>> check)
    {
        var output = new List<Violation>();
        try
        {
            check(output);
        }
        catch (Exception e)
        {
            output.Add(new Violation(id, null, null, $"the state is malformed and could not be judged ({e.GetType().Name}: {e.Message})"));
        }
        found.AddRange(output);
    }

    /// <summary>Read/write permission a mapping's direction asks for (dma_info_to_prot);
    /// coherent allocations are always read/write.</summary>
    internal static Prot ExpectedAccess(DmaMapping mapping) => mapping.Kind == MappingKind.Coherent
        ? Prot.Read | Prot.Write
        : mapping.Direction switch
        {
            DmaDirection.Bidirectional => Prot.Read | Prot.Write,
            DmaDirection.ToDevice => Prot.Read,
            DmaDirection.FromDevice => Prot.Write,
            _ => Prot.None,
        };

    /// <summary>The read/write bits a leaf of this format carries for the mapping (the format
    /// rule is <see cref="DmaRules.LeafPermissions"/>: GART always RW, TCE and LPAE stage 1 add
    /// read; the others carry exactly the direction's bits).</summary>
    internal static Prot ExpectedLeafAccess(DmaMapping mapping, PageTableFormatKind format) =>
        DmaRules.LeafPermissions(format, ExpectedAccess(mapping));

    internal const Prot ReadWrite = Prot.Read | Prot.Write;
}
