using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;
using DmaVerify.Cli.Composition;

namespace DmaVerify.Properties.Tests.PlantedBugs;

/// <summary>The planted bugs by name, each a decorator over a real implementation.</summary>
public static class PlantedBug
{
    public static readonly IReadOnlyDictionary<string, Func<Func<PlatformConfig, ISystemUnderTest>, Func<PlatformConfig, ISystemUnderTest>>> All =
        new Dictionary<string, Func<Func<PlatformConfig, ISystemUnderTest>, Func<PlatformConfig, ISystemUnderTest>>>
        {
            ["dma-limit-off-by-one"] = DmaLimitOffByOne.Over,
            ["iova-in-msi-window"] = IovaInMsiWindow.Over,
            ["missing-unmap-invalidation"] = MissingUnmapInvalidation.Over,
            ["sg-merge-across-boundary"] = SgMergeAcrossBoundary.Over,
            ["superpage-on-unaligned-phys"] = SuperpageOnUnalignedPhys.Over,
            ["wrong-size-unmap-accepted"] = WrongSizeUnmapAccepted.Over,
        };

    /// <summary>The named bug planted over the optimized implementation, as an engine takes it.</summary>
    public static Implementation Implementation(string bug)
    {
        var optimized = Implementations.Registry.Get(Implementations.Optimized);
        var factory = bug == "middle-unmap-keeps-translation" ? MiddleUnmapKeepsTranslation.Over(optimized.Create) : All[bug](optimized.Create);
        return new Implementation($"{Implementations.Optimized}+{bug}", factory, optimized.ModelOptions);
    }

    /// <summary>A catalogue run redirected at the named bug planted over the optimized implementation.</summary>
    public static PropertySpec Planted(PropertySpec run, string bug) =>
        run.With($"{Implementations.Optimized}+{bug}", All[bug](Implementations.Registry.Get(Implementations.Optimized).Create)) with
        {
            Name = $"{run.Name}+{bug}",
        };
}
