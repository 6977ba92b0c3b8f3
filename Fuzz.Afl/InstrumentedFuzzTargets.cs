using System.Reflection;
using DmaVerify.Fuzz.Instrumentation;
using DmaVerify.Fuzz.Targets;
using DmaVerify.Harness;

namespace DmaVerify.Fuzz.Afl;

/// <summary>
/// The named fuzz targets (<see cref="FuzzTargets"/>: one per preset, and "mixed") running on
/// instrumented copies of Contracts, Model, Optimized and Harness. The Fuzz assembly and the
/// assembly providing the implementations are loaded, as they are, into the same context so
/// their references bind to the instrumented copies; the target is reached by reflection there
/// (<see cref="TargetEntryPoint"/>) and called through a <see cref="FuzzAction"/> delegate.
/// </summary>
public static class InstrumentedFuzzTargets
{
    /// <summary>Throws <see cref="ArgumentException"/> for an unknown target or implementation
    /// name and <see cref="InstrumentationException"/> when the copies cannot be made or loaded.</summary>
    public static FuzzAction Load(string name, string cacheDir, ImplementationRegistry implementations, string? implementation = null)
    {
        if (!FuzzTargets.Names.Contains(name, StringComparer.Ordinal))
            throw new ArgumentException($"unknown fuzz target '{name}'; known: {string.Join(", ", FuzzTargets.Names)}, or PATH.dll:Namespace.Type.Method");
        if (!implementations.TryGet(implementation, out _, out string error))
            throw new ArgumentException(error);

        try
        {
            var (run, _) = TargetEntryPoint.LoadInstrumented(name, implementation, invariantEvery: 0, implementations, cacheDir);
            return data => run(data, null);
        }
        catch (TargetInvocationException e) when (e.InnerException is ArgumentException inner)
        {
            throw inner;
        }
    }
}
