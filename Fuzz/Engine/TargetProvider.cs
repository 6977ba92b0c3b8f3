using DmaVerify.Fuzz.Targets;

namespace DmaVerify.Fuzz.Engine;

/// <summary>
/// Finds a target for the engine. The targets should run from instrumented copies of Model,
/// Optimized and Harness (so coverage is the code's own edges); until the instrumenter is part
/// of this build, they run uninstrumented and the engine is guided by the targets' outcome
/// features alone (<see cref="OutcomeFeatures"/>), which it says at start-up.
/// </summary>
public static class TargetProvider
{
    public static bool TryCreate(string name, FuzzOptions options, TextWriter log, out IFuzzTarget target, out string error)
    {
        target = null!;
        var targetOptions = new ScenarioTargetOptions { Implementation = options.Implementation, InvariantEvery = options.InvariantEvery };
        if (!FuzzTargets.TryCreate(name, targetOptions, out var scenarioTarget, out error)) return false;
        if (options.NoInstrument)
            log.WriteLine("INFO: -no_instrument=1: running the uninstrumented model and implementation; coverage = the target's outcome features");
        else
            log.WriteLine("INFO: instrumentation is not available in this build (Fuzz.Instrumentation is missing); " +
                          "running uninstrumented, coverage = the target's outcome features only");
        target = scenarioTarget;
        return true;
    }
}
