using System.Buffers;
using System.Reflection;
using DmaVerify.Fuzz.Instrumentation;
using DmaVerify.Fuzz.Targets;

namespace DmaVerify.Fuzz.Engine;

/// <summary>
/// Finds a target for the engine. By default the target runs from instrumented copies of Model,
/// Optimized and Harness (made into a cache folder on first use, reused after), so coverage is
/// the code's own edges plus the target's outcome features; this assembly is loaded beside them
/// uninstrumented, so the decoder's own branches do not count as coverage. With
/// -no_instrument=1, or when instrumenting fails (the message says why), the target runs
/// uninstrumented and the outcome features alone guide the engine.
/// </summary>
public static class TargetProvider
{
    public static bool TryCreate(string name, FuzzOptions options, TextWriter log, out IFuzzTarget target, out string error)
    {
        target = null!;
        var targetOptions = new ScenarioTargetOptions { Implementation = options.Implementation, InvariantEvery = options.InvariantEvery };
        if (!FuzzTargets.TryCreate(name, targetOptions, out var plain, out error)) return false;
        target = plain;
        if (options.NoInstrument)
        {
            log.WriteLine("INFO: -no_instrument=1: running the uninstrumented model and implementation; coverage = the target's outcome features");
            return true;
        }
        string cache = options.InstrumentCache ?? InstrumentedAssemblies.DefaultCacheDir;
        try
        {
            var loaded = InstrumentedAssemblies.Load(cache, InstrumentedAssemblies.Default, loadPlain: [typeof(TargetEntryPoint).Assembly.GetName().Name!]);
            foreach (var result in loaded.Results)
                log.WriteLine($"INFO: instrumented: {result}");
            var entry = loaded[typeof(TargetEntryPoint).Assembly.GetName().Name!]
                .GetType(typeof(TargetEntryPoint).FullName!, throwOnError: true)!
                .GetMethod(nameof(TargetEntryPoint.Create))!;
            var run = (ReadOnlySpanAction<byte, object?>)entry.Invoke(null, [name, options.Implementation, options.InvariantEvery])!;
            target = new InstrumentedTarget(name, run);
            return true;
        }
        catch (Exception e) when (e is InstrumentationException or IOException or UnauthorizedAccessException or TargetInvocationException or TypeLoadException or MissingMethodException)
        {
            log.WriteLine($"INFO: instrumentation unavailable ({(e as TargetInvocationException)?.InnerException?.Message ?? e.Message}); " +
                          "running uninstrumented, coverage = the target's outcome features only");
            return true;
        }
    }

    /// <summary>A target running in the instrumented load context.</summary>
    private sealed class InstrumentedTarget(string name, ReadOnlySpanAction<byte, object?> run) : IFuzzTarget
    {
        public string Name => name;
        public void Run(ReadOnlySpan<byte> data) => run(data, null);
    }
}
