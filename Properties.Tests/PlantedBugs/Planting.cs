using DmaVerify.Harness;
using DmaVerify.PlantedBugs;

namespace DmaVerify.Properties.Tests.PlantedBugs;

/// <summary>Catalogue runs redirected at a bug of the planted-bug catalog.</summary>
public static class Planting
{
    /// <summary>The decorator bugs the property engine's own tests were built around.</summary>
    public static readonly IReadOnlyList<string> Decorators =
    [
        "dma-limit-off-by-one", "iova-in-msi-window", "missing-unmap-invalidation",
        "sg-merge-across-boundary", "superpage-on-unaligned-phys", "wrong-size-unmap-accepted",
    ];

    /// <summary>The named bug as an engine takes it: a catalog bug, or the test-only
    /// <see cref="MiddleUnmapKeepsTranslation"/> (a bug only five ops reach, for the explorer).</summary>
    public static Implementation Implementation(string bug)
    {
        if (PlantedCatalog.Find(bug) is { } planted) return planted.Implementation;
        if (bug != MiddleUnmapKeepsTranslation.BugName) throw new ArgumentException($"no planted bug '{bug}'", nameof(bug));
        var optimized = Cli.Composition.Implementations.Registry.Get(Cli.Composition.Implementations.Optimized);
        return new Implementation($"{optimized.Name}+{bug}", MiddleUnmapKeepsTranslation.Over(optimized.Create), optimized.ModelOptions);
    }

    /// <summary>A catalogue run redirected at the named planted bug (in place of its base implementation).</summary>
    public static PropertySpec Planted(PropertySpec run, string bug)
    {
        var planted = PlantedCatalog.Find(bug) ?? throw new ArgumentException($"no planted bug '{bug}'", nameof(bug));
        return run.With(planted.ImplementationName, planted.Implementation.Create) with { Name = $"{run.Name}+{bug}" };
    }
}
