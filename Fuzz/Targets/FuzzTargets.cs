using DmaVerify.Contracts;
using DmaVerify.Fuzz.Decoding;
using DmaVerify.Harness;
using DmaVerify.Model;

namespace DmaVerify.Fuzz.Targets;

/// <summary>The fuzz targets by name: one per preset (x86-vtd … soc-vcm) and "mixed", whose
/// header byte picks any preset or variant.</summary>
public static class FuzzTargets
{
    public const string Mixed = "mixed";

    /// <summary>The presets header byte 0 of an unmarked (version 0) input picks from, modulo:
    /// version 0's table, frozen; marked inputs pick from their own version's table.</summary>
    public static IReadOnlyList<string> MixedPresets { get; } = FuzzFormat.For(0).Presets;

    /// <summary>The presets new inputs of the mixed target choose from: the current format
    /// version's table (a new preset needs a new format version).</summary>
    public static IReadOnlyList<string> CurrentPresets { get; } = FuzzFormat.For(FuzzFormat.Current).Presets;

    /// <summary>Every target name, presets first.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Presets.Names, Mixed];

    public static bool TryCreate(string name, ImplementationRegistry implementations, ScenarioTargetOptions options, out ScenarioTarget target, out string error)
    {
        target = null!;
        if (!Names.Contains(name, StringComparer.Ordinal))
        {
            error = $"unknown fuzz target '{name}'; known: {string.Join(", ", Names)}";
            return false;
        }
        if (!implementations.TryGet(options.Implementation, out var implementation, out error)) return false;
        target = Create(name, implementation.Create, options.InvariantEvery, implementation.ModelOptions);
        return true;
    }

    /// <summary>Throws <see cref="ArgumentException"/> for an unknown target or implementation.</summary>
    public static ScenarioTarget Create(string name, ImplementationRegistry implementations, ScenarioTargetOptions? options = null)
    {
        options ??= new ScenarioTargetOptions();
        return TryCreate(name, implementations, options, out var target, out var error) ? target : throw new ArgumentException(error, nameof(name));
    }

    /// <summary>A target over a caller's implementation (tests plant bugs this way).</summary>
    /// <param name="model">The model's options for this implementation (default: the model as specified).</param>
    public static ScenarioTarget Create(string name, Func<PlatformConfig, ISystemUnderTest> implementation, int invariantEvery = 0, ModelOptions? model = null) =>
        new(name, name == Mixed ? null : name, MixedPresets, implementation, invariantEvery, model);
}
