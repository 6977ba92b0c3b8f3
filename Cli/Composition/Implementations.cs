using DmaVerify.Harness;
using DmaVerify.Model;
using DmaVerify.Optimized.Dma;

namespace DmaVerify.Cli.Composition;

/// <summary>
/// The composition root's implementations: what <c>--impl NAME</c> may name. The engines and the
/// harness know none of them; they get <see cref="Registry"/> from here. Fuzzing rebuilds the
/// registry beside instrumented copies through its public static <see cref="Registry"/>
/// property (<see cref="ImplementationRegistry.FromProvider"/>), so keep that shape.
/// </summary>
public static class Implementations
{
    /// <summary>The shipped Optimized system (augmented allocator, magazines). The default.</summary>
    public const string Optimized = "optimized";

    /// <summary>The same DMA layer over the LinuxStyle allocator with Linux's 32-bit-first pass,
    /// incomplete through max32_alloc_size: checked with StrictPci32First = false (see
    /// Optimized/README.md).</summary>
    public const string LinuxStyle = "linuxstyle";

    public static ImplementationRegistry Registry { get; } = new(typeof(Implementations),
    [
        new Implementation(Optimized, platform => new OptimizedSystem(platform, OptimizedSystemOptions.Optimized with { Name = Optimized }),
            new ModelOptions { StrictPci32First = true }),
        new Implementation(LinuxStyle, platform => new OptimizedSystem(platform, OptimizedSystemOptions.LinuxStyle with { Name = LinuxStyle }),
            // Linux's dma-iommu 32-bit pass may give up early; the strict rule would call that a bug.
            new ModelOptions { StrictPci32First = false }),
    ]);

    /// <summary>Every name, in a stable order.</summary>
    public static IReadOnlyList<string> Names => Registry.Names;

    /// <summary>The registry that knows <paramref name="name"/>: the real implementations, or for
    /// a <c>BASE+BUG</c> name the planted-bug catalog (docs/planted-bugs.md), so a planted run's
    /// replay command works. Unknown names get the real registry, whose error lists its names.</summary>
    public static ImplementationRegistry RegistryFor(string? name) =>
        name is not null && !Registry.TryGet(name, out _, out _) && PlantedBugs.PlantedCatalog.Registry.TryGet(name, out _, out _)
            ? PlantedBugs.PlantedCatalog.Registry
            : Registry;
}
