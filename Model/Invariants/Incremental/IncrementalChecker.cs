using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>
/// INV-01…INV-15 judged on what one op of the model touched (its <see cref="Footprint"/>), in
/// O(footprint · log n), on the model's own persistent state. <see cref="InvariantChecker"/> is
/// the specification: this checker restates each of its rules for the touched devices, domains,
/// IOVA ranges, mappings and bounce slots, and a differential test runs both on the same runs
/// (with bugs planted in the model) and insists on the same verdicts. Anything the incremental
/// checker misses that the full one finds is a defect here. Never throws: an exception becomes a
/// violation of the invariant being judged.
/// </summary>
public static partial class IncrementalChecker
{
    private const string Inv01 = InvariantChecker.Inv01, Inv02 = InvariantChecker.Inv02, Inv03 = InvariantChecker.Inv03,
        Inv04 = InvariantChecker.Inv04, Inv05 = InvariantChecker.Inv05, Inv06 = InvariantChecker.Inv06, Inv07 = InvariantChecker.Inv07,
        Inv08 = InvariantChecker.Inv08, Inv09 = InvariantChecker.Inv09, Inv10 = InvariantChecker.Inv10, Inv11 = InvariantChecker.Inv11,
        Inv12 = InvariantChecker.Inv12, Inv13 = InvariantChecker.Inv13, Inv14 = InvariantChecker.Inv14, Inv15 = InvariantChecker.Inv15;

    /// <summary>The violations one step of the model introduced: the state invariants on the
    /// footprint of <paramref name="after"/>, and the step invariants of the op.</summary>
    public static IReadOnlyList<Violation> CheckStep(ModelState before, Op op, Outcome outcome, ModelState after, Footprint footprint)
    {
        var found = new List<Violation>();
        var scope = new Scope(before, after, footprint);
        Guarded(found, Inv07, o => scope.CheckDevices(o));
        Guarded(found, Inv01, o => scope.CheckDomains(o));
        Guarded(found, Inv06, o => scope.CheckMappings(o));
        Guarded(found, Inv15, o => scope.CheckRemovals(o));
        Guarded(found, Inv08, o => CheckStaleAccess(before, op, outcome, o));
        Guarded(found, Inv10, o => CheckMisuse(before, after, footprint, op, outcome, o));
        Guarded(found, Inv11, o => CheckCompleteness(before, op, outcome, o));
        Guarded(found, Inv15, o => CheckAtomicity(before, after, op, outcome, o));
        return Distinct(found);
    }

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

    private static IReadOnlyList<Violation> Distinct(List<Violation> violations)
    {
        if (violations.Count < 2) return violations;
        var seen = new HashSet<Violation>();
        var result = new List<Violation>(violations.Count);
        foreach (var v in violations)
            if (seen.Add(v)) result.Add(v);
        return result;
    }

    /// <summary>The IOMMUs of a domain: its creator and those of attached devices.</summary>
    internal static List<int> IommusOf(ModelState state, ModelDomain domain)
    {
        var ids = new List<int> { domain.Iommu };
        foreach (var dev in state.DevicesIn(domain.Id))
            if (state.Platform.Device(dev.Id)?.Iommu is int i && !ids.Contains(i))
                ids.Add(i);
        return ids;
    }

    internal static List<ReservedRegion> RegionsOf(ModelState state, ModelDomain domain)
    {
        var regions = new List<ReservedRegion>();
        foreach (int id in IommusOf(state, domain))
            if (state.Platform.Iommu(id) is { } iommu)
                foreach (var r in iommu.Regions)
                    if (!regions.Contains(r)) regions.Add(r);
        return regions;
    }

    internal static List<AddrRange> PciWindowsOf(ModelState state, ModelDomain domain)
    {
        var windows = new List<AddrRange>();
        foreach (var dev in state.DevicesIn(domain.Id))
            if (state.Platform.Device(dev.Id) is { IsPci: true } config && state.Platform.IommuOf(config) is { } iommu)
                foreach (var w in iommu.PciHostWindows)
                    if (!windows.Contains(w)) windows.Add(w);
        return windows;
    }

    private static AddrRange Outward(AddrRange range, ulong granule) =>
        granule == 0 ? range : new AddrRange(range.Start & ~(granule - 1), range.Last | (granule - 1));

    private static AddrRange? RangeOf(ulong start, ulong length) =>
        AddrRange.TryFromLength(start, length, out var r) ? r : null;
}
