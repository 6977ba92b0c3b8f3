using DmaVerify.Contracts;
using DmaVerify.Harness;

namespace DmaVerify.PlantedBugs;

/// <summary>
/// One bug of the catalog: its name, the implementation it is planted in (optimized or
/// linuxstyle), the kind of slip, where in the code it sits, what goes wrong, and the factory of
/// the planted system. <see cref="Implementation"/> is what the engines run in place of the
/// real one, under the name <c>BASE+NAME</c> (e.g. <c>optimized+iova-limit-past-by-one</c>).
/// </summary>
public sealed record PlantedBug(string Name, string Base, Slip Slip, string Site, string Description)
{
    internal Func<PlatformConfig, ISystemUnderTest> Create { get; init; } = null!;

    /// <summary>The model options the base implementation is checked with.</summary>
    internal Model.ModelOptions ModelOptions { get; init; } = new();

    /// <summary>The mutation switch it sets in Optimized (None for a decorator).</summary>
    internal Optimized.OptimizedPlant Plant { get; init; }

    public string ImplementationName => $"{Base}+{Name}";

    public Implementation Implementation => new(ImplementationName, Create, ModelOptions);

    public override string ToString() => $"{ImplementationName} ({Slip.Describe()}): {Description}";
}
