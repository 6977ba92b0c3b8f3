using DmaVerify.Contracts;
using DmaVerify.Model;
using DmaVerify.Optimized.Dma;

namespace DmaVerify.Harness;

/// <summary>The implementations by name. Engines and the CLI pick one with <c>--impl NAME</c>;
/// tests that need a decorated (bug-planted) system pass their own factory to
/// <see cref="RefinementSession"/> instead of registering it here.</summary>
public static class Implementations
{
    public const string Optimized = "optimized";

    /// <summary>The same DMA layer over the LinuxStyle allocator with Linux's 32-bit-first pass.
    /// Incomplete through max32_alloc_size: check it with StrictPci32First = false and
    /// AcceptKnownIncompleteness (see Optimized/README.md).</summary>
    public const string LinuxStyle = "linuxstyle";

    private static readonly IReadOnlyDictionary<string, Func<PlatformConfig, ISystemUnderTest>> Factories =
        new Dictionary<string, Func<PlatformConfig, ISystemUnderTest>>(StringComparer.Ordinal)
        {
            [Optimized] = platform => new OptimizedSut(new OptimizedSystem(platform, OptimizedSystemOptions.Optimized), Optimized),
            [LinuxStyle] = platform => new OptimizedSut(new OptimizedSystem(platform, OptimizedSystemOptions.LinuxStyle), LinuxStyle),
        };

    /// <summary>Every implementation name, in a stable order.</summary>
    public static IReadOnlyList<string> Names { get; } = Factories.Keys.Order(StringComparer.Ordinal).ToArray();

    public static bool TryGetFactory(string name, out Func<PlatformConfig, ISystemUnderTest> factory, out string error)
    {
        if (Factories.TryGetValue(name, out factory!))
        {
            error = "";
            return true;
        }
        error = $"unknown implementation '{name}'; known: {string.Join(", ", Names)}";
        return false;
    }

    public static Func<PlatformConfig, ISystemUnderTest> Factory(string name) =>
        TryGetFactory(name, out var factory, out var error) ? factory : throw new ArgumentException(error, nameof(name));

    /// <summary>The model options an implementation is checked with: strict 32-bit-first for
    /// everything but LinuxStyle, whose dma-iommu 32-bit pass may give up early as Linux's does.</summary>
    public static ModelOptions ModelOptionsFor(string name) =>
        new() { StrictPci32First = name != LinuxStyle };

    private sealed class OptimizedSut(OptimizedSystem system, string name) : ISystemUnderTest, IKnownIncompleteness
    {
        public string? KnownIncompletenessOfLastOp => system.Max32Shortcut.LastOpRefused
            ? "LinuxStyle's max32_alloc_size shortcut refused the allocation without walking the tree (known Linux incompleteness)"
            : null;
        public string KnownIncompletenessSummary => system.Max32Shortcut.ToString();
        public string Name => name;
        public Outcome Apply(Op op) => system.Apply(op);
        public SystemState ExportState() => system.ExportState();
        public void FailNthAllocation(int n) => system.FailNthTablePage(n);
        public long AllocationAttempts => system.TablePageAttempts;
    }
}
