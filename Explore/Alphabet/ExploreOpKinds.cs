namespace DmaVerify.Explore;

/// <summary>The families of ops an exploration draws from (<c>--ops LIST</c>).</summary>
[Flags]
public enum ExploreOpKinds
{
    None = 0,
    /// <summary>dma_map_single of each buffer of the alphabet.</summary>
    Map = 1 << 0,
    /// <summary>The correct unmap of each live mapping (unmap, unmap_sg, free_coherent, unmap_resource).</summary>
    Unmap = 1 << 1,
    /// <summary>A device read of the first byte and a write of the last byte of each live mapping.</summary>
    Access = 1 << 2,
    /// <summary>Accesses and unmaps through the raw address of a mapping already unmapped.</summary>
    Stale = 1 << 3,
    /// <summary>dma-debug misuse of each live mapping: wrong size, wrong direction or function.</summary>
    Misuse = 1 << 4,
    /// <summary>dma_map_sg: physically contiguous granules (merge candidates) and sub-granule pieces.</summary>
    Sg = 1 << 5,
    Coherent = 1 << 6,
    Resource = 1 << 7,
    Msi = 1 << 8,
    /// <summary>IOTLB flush of each domain with something to flush.</summary>
    Flush = 1 << 9,
    /// <summary>Time passing: just before and exactly at an armed flush-queue deadline.</summary>
    Tick = 1 << 10,
    /// <summary>dma_set_mask_and_coherent to the other common width (32 ↔ 64 bits).</summary>
    Mask = 1 << 11,
    /// <summary>An unmanaged domain, attaching a device to it and back, default-domain type changes.</summary>
    Domains = 1 << 12,
    /// <summary>iommu_map/unmap on unmanaged domains: aligned, misaligned, superpage, partial unmap.</summary>
    Iommu = 1 << 13,
    /// <summary>Each allocating op again with the implementation's first internal allocation failing.</summary>
    Fault = 1 << 14,

    All = Map | Unmap | Access | Stale | Misuse | Sg | Coherent | Resource | Msi | Flush | Tick | Mask | Domains | Iommu | Fault,

    /// <summary>Everything but <see cref="Fault"/>: an injected failure costs an export of the
    /// implementation's whole state to show it changed nothing (INV-15), which on presets with
    /// large 1:1 regions is most of the search's time; <c>--ops all</c> adds it.</summary>
    Default = All & ~Fault,
}

/// <summary>Names of <see cref="ExploreOpKinds"/> on the command line and in reports.</summary>
public static class OpKindNames
{
    public static readonly IReadOnlyList<(string Name, ExploreOpKinds Kind)> All =
    [
        ("map", ExploreOpKinds.Map), ("unmap", ExploreOpKinds.Unmap), ("access", ExploreOpKinds.Access), ("stale", ExploreOpKinds.Stale),
        ("misuse", ExploreOpKinds.Misuse), ("sg", ExploreOpKinds.Sg), ("coherent", ExploreOpKinds.Coherent), ("resource", ExploreOpKinds.Resource),
        ("msi", ExploreOpKinds.Msi), ("flush", ExploreOpKinds.Flush), ("tick", ExploreOpKinds.Tick), ("mask", ExploreOpKinds.Mask),
        ("domains", ExploreOpKinds.Domains), ("iommu", ExploreOpKinds.Iommu), ("fault", ExploreOpKinds.Fault),
    ];

    /// <summary>A comma-separated list of names, "default" (all but fault) or "all"; a name
    /// prefixed with '-' is removed from what comes before it ("all,-iommu").</summary>
    public static bool TryParse(string text, out ExploreOpKinds kinds, out string error)
    {
        kinds = ExploreOpKinds.None;
        error = "";
        foreach (var raw in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (raw.Length == 0) continue;
            bool remove = raw.StartsWith('-');
            string name = remove ? raw[1..] : raw;
            ExploreOpKinds kind;
            if (name == "all") kind = ExploreOpKinds.All;
            else if (name == "default") kind = ExploreOpKinds.Default;
            else if (All.FirstOrDefault(k => k.Name == name) is { Name: not null } found) kind = found.Kind;
            else
            {
                error = $"unknown op kind '{name}'; known: default, all, {string.Join(", ", All.Select(k => k.Name))}";
                return false;
            }
            kinds = remove ? kinds & ~kind : kinds | kind;
        }
        if ((kinds & (ExploreOpKinds.Map | ExploreOpKinds.Sg | ExploreOpKinds.Coherent | ExploreOpKinds.Resource | ExploreOpKinds.Msi | ExploreOpKinds.Domains | ExploreOpKinds.Mask)) == 0)
        {
            error = $"'{text}' has no op that changes the state (map, sg, coherent, resource, msi, mask or domains)";
            return false;
        }
        return true;
    }

    public static string Format(ExploreOpKinds kinds) =>
        kinds == ExploreOpKinds.All ? "all" : kinds == ExploreOpKinds.Default ? "default" : string.Join(",", All.Where(k => (kinds & k.Kind) != 0).Select(k => k.Name));
}
