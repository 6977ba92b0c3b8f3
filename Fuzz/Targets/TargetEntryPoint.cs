using System.Buffers;
using DmaVerify.Harness;

namespace DmaVerify.Fuzz.Targets;

/// <summary>
/// How the engine reaches a target that lives in another load context (the copy of this
/// assembly loaded beside instrumented Contracts/Model/Optimized/Harness): by reflection on this
/// type, getting back a delegate of a BCL type, which both contexts share. The implementations
/// come from <paramref name="implementationProvider"/> as that context sees it (see
/// <see cref="ImplementationRegistry.FromProvider"/>). The delegate throws what the target
/// throws (FuzzFinding of that context, or the crash).
/// </summary>
public static class TargetEntryPoint
{
    public static ReadOnlySpanAction<byte, object?> Create(string name, string? implementation, int invariantEvery, Type implementationProvider, string? providerArgument)
    {
        var registry = ImplementationRegistry.FromProvider(implementationProvider, providerArgument);
        var target = FuzzTargets.Create(name, registry, new ScenarioTargetOptions { Implementation = implementation, InvariantEvery = invariantEvery });
        return (data, _) => target.Run(data);
    }

    /// <summary>Loads the instrumented copies with this assembly and the provider's assembly
    /// beside them, and returns the target's entry in that context.</summary>
    public static (ReadOnlySpanAction<byte, object?> Run, IReadOnlyList<Instrumentation.InstrumentationResult> Instrumented) LoadInstrumented(
        string name, string? implementation, int invariantEvery, ImplementationRegistry implementations, string cacheDir, bool compareHooks = false)
    {
        var provider = implementations.Provider
            ?? throw new Instrumentation.InstrumentationException("these implementations have no provider type, so they cannot be rebuilt beside instrumented copies");
        var self = typeof(TargetEntryPoint).Assembly;
        var loaded = Instrumentation.InstrumentedAssemblies.Load(cacheDir, Instrumentation.InstrumentedAssemblies.Default,
            loadPlain: [self.Location, provider.Assembly.Location, .. PlainDependencies(provider.Assembly)], compareHooks: compareHooks);
        var providerInContext = loaded[provider.Assembly.GetName().Name!].GetType(provider.FullName!, throwOnError: true)!;
        var entry = loaded[self.GetName().Name!].GetType(typeof(TargetEntryPoint).FullName!, throwOnError: true)!
            .GetMethod(nameof(Create))!;
        var run = (ReadOnlySpanAction<byte, object?>)entry.Invoke(null, [name, implementation, invariantEvery, providerInContext, implementations.ProviderArgument])!;
        return (run, loaded.Results);
    }

    /// <summary>The provider's own dependencies that are not instrumented but speak to instrumented
    /// code (e.g. the loader of plugged allocators, which hands the DMA layer its allocator
    /// interface): loaded plain beside the copies too, so those types are the copies' types.</summary>
    private static IEnumerable<string> PlainDependencies(System.Reflection.Assembly provider)
    {
        var instrumented = Instrumentation.InstrumentedAssemblies.Default;
        foreach (var reference in provider.GetReferencedAssemblies())
        {
            if (reference.Name is not { } name || instrumented.Contains(name, StringComparer.Ordinal)) continue;
            if (!name.StartsWith("DmaVerify.", StringComparison.Ordinal)) continue;
            var dependency = System.Reflection.Assembly.Load(reference);
            if (dependency.GetReferencedAssemblies().Any(r => instrumented.Contains(r.Name, StringComparer.Ordinal)) && dependency.Location.Length > 0)
                yield return dependency.Location;
        }
    }
}
