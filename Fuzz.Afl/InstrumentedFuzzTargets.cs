using System.Reflection;
using DmaVerify.Fuzz.Instrumentation;
using DmaVerify.Fuzz.Targets;

namespace DmaVerify.Fuzz.Afl;

/// <summary>
/// The named fuzz targets (<see cref="FuzzTargets"/>: one per preset, and "mixed") running on
/// instrumented copies of Model, Optimized and Harness. The Fuzz assembly is loaded, as it is,
/// into the same context so its references bind to the instrumented copies; the target is
/// reached by reflection there and called through a <see cref="FuzzAction"/> delegate.
/// </summary>
public static class InstrumentedFuzzTargets
{
    /// <summary>Throws <see cref="ArgumentException"/> for an unknown name and
    /// <see cref="InstrumentationException"/> when the copies cannot be made or loaded.</summary>
    public static FuzzAction Load(string name, string cacheDir, string implementation = Harness.Implementations.Optimized)
    {
        if (!FuzzTargets.Names.Contains(name, StringComparer.Ordinal))
            throw new ArgumentException($"unknown fuzz target '{name}'; known: {string.Join(", ", FuzzTargets.Names)}, or PATH.dll:Namespace.Type.Method");

        var fuzz = typeof(FuzzTargets).Assembly;
        var loaded = InstrumentedAssemblies.Load(cacheDir, InstrumentedAssemblies.Default, loadPlain: [fuzz.Location]);
        var inContext = loaded[fuzz.GetName().Name!];
        var targets = inContext.GetType(typeof(FuzzTargets).FullName!, throwOnError: true)!;
        var optionsType = inContext.GetType(typeof(ScenarioTargetOptions).FullName!, throwOnError: true)!;
        var options = Activator.CreateInstance(optionsType)!;
        optionsType.GetProperty(nameof(ScenarioTargetOptions.Implementation))!.SetValue(options, implementation);

        object target;
        try
        {
            target = targets.GetMethod(nameof(FuzzTargets.Create), [typeof(string), optionsType])!.Invoke(null, [name, options])!;
        }
        catch (TargetInvocationException e) when (e.InnerException is ArgumentException inner)
        {
            throw inner;
        }
        var run = target.GetType().GetMethod(nameof(IFuzzTarget.Run), [typeof(ReadOnlySpan<byte>)])!;
        return run.CreateDelegate<FuzzAction>(target);
    }
}
