using System.Buffers;
using System.Reflection;
using DmaVerify.Fuzz.Instrumentation;
using DmaVerify.Fuzz.Targets;
using DmaVerify.Harness;

namespace DmaVerify.Fuzz.Engine;

/// <summary>
/// Finds a target for the engine. By default the target runs from instrumented copies of Contracts,
/// Model, Optimized and Harness (made into a cache folder on first use, reused after), so coverage is
/// the code's own edges plus the target's outcome features; this assembly is loaded beside them
/// uninstrumented, so the decoder's own branches do not count as coverage. With
/// -no_instrument=1, or when instrumenting fails (the message says why), the target runs
/// uninstrumented and the outcome features alone guide the engine.
/// </summary>
public static class TargetProvider
{
    public static bool TryCreate(string name, FuzzOptions options, ImplementationRegistry implementations, TextWriter log, out IFuzzTarget target, out string error)
    {
        target = null!;
        var targetOptions = new ScenarioTargetOptions { Implementation = options.Implementation, InvariantEvery = options.InvariantEvery };
        if (!FuzzTargets.TryCreate(name, implementations, targetOptions, out var plain, out error)) return false;
        target = plain;
        if (options.NoInstrument)
        {
            log.WriteLine("INFO: -no_instrument=1: running the uninstrumented model and implementation; coverage = the target's outcome features");
            return true;
        }
        string cache = options.InstrumentCache ?? InstrumentedAssemblies.DefaultCacheDir;
        try
        {
            var (run, instrumented) = TargetEntryPoint.LoadInstrumented(name, options.Implementation, options.InvariantEvery, implementations, cache,
                compareHooks: options.UseValueProfile);
            foreach (var result in instrumented)
                log.WriteLine($"INFO: instrumented: {result}");
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
