using DmaVerify.Model;
using DmaVerify.Optimized.Dma;

namespace DmaVerify.Harness;

/// <summary>The implementations by name. Engines and the CLI pick one with <c>--impl NAME</c>;
/// tests that need a decorated (bug-planted) system pass their own factory to
/// <see cref="RefinementSession"/> instead of registering it here.</summary>
public static class Implementations
{
    public const string Optimized = "optimized";

    private static readonly IReadOnlyDictionary<string, Func<PlatformConfig, ISystemUnderTest>> Factories =
        new Dictionary<string, Func<PlatformConfig, ISystemUnderTest>>(StringComparer.Ordinal)
        {
            [Optimized] = platform => new OptimizedSut(new OptimizedSystem(platform), Optimized),
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

    private sealed class OptimizedSut(OptimizedSystem system, string name) : ISystemUnderTest
    {
        public string Name => name;
        public Outcome Apply(Op op) => system.Apply(op);
        public SystemState ExportState() => system.ExportState();
        public void FailNthAllocation(int n) => system.FailNthTablePage(n);
        public long AllocationAttempts => system.TablePageAttempts;
    }
}
