using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;

namespace DmaVerify.Properties;

/// <summary>
/// One op-sequence property: which preset, which engine, which implementation (a factory, so
/// tests can pass a decorated one), the default budget and case shapes. <see cref="Run"/> is
/// the whole thing: generate, execute, shrink, report.
/// </summary>
public sealed record PropertySpec : INamedRun
{
    public required string Name { get; init; }
    public required string Preset { get; init; }
    public required Engine Engine { get; init; }
    /// <summary>The catalogue's short engine name ("invariants", "refine", "topology", "faults").</summary>
    public required string EngineName { get; init; }
    /// <summary>Implementation name as in its registry; null for the model alone.</summary>
    public string? ImplementationName { get; init; }
    public Func<PlatformConfig, ISystemUnderTest>? Implementation { get; init; }
    public int DefaultBudget { get; init; } = 30;
    public int EndSize { get; init; } = 60;
    public int InvariantEvery { get; init; } = 1;
    public GenerationOptions Generation { get; init; } = new();
    /// <summary>The reference model's options (default: the model as specified).</summary>
    public ModelOptions Model { get; init; } = new();

    /// <summary>The same property run against another implementation (a bug-planted decorator).</summary>
    public PropertySpec With(string implementationName, Func<PlatformConfig, ISystemUnderTest> implementation) =>
        this with { ImplementationName = implementationName, Implementation = implementation };

    public Finding? Execute(PropertyCase c) => CaseExecutor.Run(c, Engine, Implementation, InvariantEvery, Model);

    public PropertyResult Run(PropertyRunOptions? options = null)
    {
        options ??= new PropertyRunOptions();
        var check = new PropertyCheck<PropertyCase>
        {
            Name = Name,
            Generator = CaseGen.For(Preset, Generation),
            Execute = Execute,
            Shrink = (c, f, max) =>
            {
                var shrinker = new CaseShrinker(Execute, max);
                var (shrunk, finding) = shrinker.Shrink(c, f);
                return (shrunk, finding, shrinker.Runs);
            },
            Print = c => c.ToText(),
            CountOps = c => c.Ops.Count,
            EndSize = EndSize,
        };
        return check.Run(options.ResolveBudget(DefaultBudget), options);
    }
}
