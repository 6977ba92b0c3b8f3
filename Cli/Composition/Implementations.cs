using DmaVerify.Conformance;
using DmaVerify.Harness;
using DmaVerify.Model;
using DmaVerify.Optimized.Dma;
using DmaVerify.Optimized.Iova;

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
    public static ImplementationRegistry Knowing(string? name) =>
        name is not null && !Registry.TryGet(name, out _, out _) && PlantedBugs.PlantedCatalog.Registry.TryGet(name, out _, out _)
            ? PlantedBugs.PlantedCatalog.Registry
            : Registry;

    /// <summary>The registry of an allocator given with --allocator, rebuilt from its argument
    /// (<see cref="ImplementationRegistry.FromProvider"/> calls this beside instrumented copies;
    /// the allocator lives as long as that registry).</summary>
    public static ImplementationRegistry RegistryFor(string argument) => PluggedImplementation.Load(argument).Registry;

    /// <summary>The shipped allocators as conformance subjects: the augmented tree, and LinuxStyle
    /// with its documented max32_alloc_size refusals counted, not failed.</summary>
    public static IReadOnlyList<AllocatorSubject> Allocators { get; } =
    [
        new(Optimized, (start, shift) => new AugmentedIovaAllocator(start, shift)),
        new(LinuxStyle, (start, shift) => new LinuxStyleIovaAllocator(start, shift))
        {
            KnownIncompleteness = a => a is LinuxStyleIovaAllocator { LastOutcome: LinuxStyleIovaAllocator.Outcome.Max32FastFail }
                ? "LinuxStyle's max32_alloc_size shortcut refused without walking the tree (known Linux incompleteness)"
                : null,
        },
    ];
}
