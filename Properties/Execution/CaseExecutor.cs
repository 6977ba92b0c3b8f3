using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;

namespace DmaVerify.Properties;

/// <summary>
/// Runs one case under one engine and returns its first finding (null: the case passed). Never
/// throws for a problem in the model, the checker or the implementation: those become findings.
/// Step indexes count the case's ops, so a finding at step k means ops[0..k] reproduce it.
/// </summary>
public static class CaseExecutor
{
    /// <param name="model">The reference model's options (tests plant model-side bugs through them).</param>
    public static Finding? Run(PropertyCase c, Engine engine, Func<PlatformConfig, ISystemUnderTest>? implementation, int invariantEvery = 1, ModelOptions? model = null)
    {
        model ??= new ModelOptions();
        PlatformConfig platform;
        try
        {
            platform = c.BuildPlatform();
        }
        catch (Exception e)
        {
            return Crashes.Of(FindingKind.ToolCrash, 0, "the platform builder", e);
        }
        var ops = c.Ops.Select(o => o.Op).ToList();
        return engine switch
        {
            Engine.ModelInvariants => ModelAlone(platform, ops, invariantEvery, model),
            Engine.ImplementationInvariants => ImplementationAlone(platform, ops, Require(implementation), invariantEvery),
            Engine.Refinement => Refine(c, platform, ops, Require(implementation), invariantEvery, model),
            Engine.FaultSweep => FaultSweep(platform, ops, Require(implementation), model),
            _ => throw new ArgumentOutOfRangeException(nameof(engine), engine, "unknown engine"),
        };
    }

    private static Func<PlatformConfig, ISystemUnderTest> Require(Func<PlatformConfig, ISystemUnderTest>? implementation) =>
        implementation ?? throw new ArgumentException("this engine needs an implementation");

    /// <summary>The model alone: every step judged on what it touched (incremental), the final
    /// state by the full checker (the specification of the incremental one).</summary>
    private static Finding? ModelAlone(PlatformConfig platform, List<Op> ops, int every, ModelOptions options)
    {
        ModelSystem model;
        try
        {
            model = new ModelSystem(platform, options);
        }
        catch (Exception e)
        {
            return Crashes.Of(FindingKind.ToolCrash, 0, "the model's constructor", e);
        }
        for (int i = 0; i < ops.Count; i++)
        {
            try
            {
                var before = model.View;
                var outcome = model.Apply(ops[i]);
                var violations = IncrementalChecker.CheckStep(before, ops[i], outcome, model.View, model.Footprint);
                if (violations.Count == 0 && i == ops.Count - 1) violations = InvariantChecker.Check(model.State);
                if (violations.Count > 0)
                    return new Finding(FindingKind.InvariantViolation, i, violations[0].Invariant, string.Join("; ", violations));
            }
            catch (Exception e)
            {
                return Crashes.Of(FindingKind.ToolCrash, i, "the model or the checker", e);
            }
        }
        _ = every;
        return null;
    }

    /// <summary>The implementation alone, judged by the full checker on its exported state: with
    /// <paramref name="every"/> = 1 after steps 1, 2, 4, 8, … and the last (O(1) amortised per
    /// step); a larger value checks every n-th step instead. A violation found at a checkpoint is
    /// pinned to its step by replaying from the last clean checkpoint one step at a time.</summary>
    private static Finding? ImplementationAlone(PlatformConfig platform, List<Op> ops, Func<PlatformConfig, ISystemUnderTest> factory, int every)
    {
        var found = RunAlone(platform, ops, factory, every, checkAll: false, out int lastClean);
        if (found is not { Kind: FindingKind.InvariantViolation } || found.Step <= lastClean + 1) return found;
        // Pin it: run again, checking every step after the last clean checkpoint.
        var pinned = RunAlone(platform, ops.Take(found.Step + 1).ToList(), factory, every, checkAll: true, out _, from: lastClean + 1);
        return pinned ?? found;
    }

    private static Finding? RunAlone(PlatformConfig platform, List<Op> ops, Func<PlatformConfig, ISystemUnderTest> factory, int every, bool checkAll, out int lastClean, int from = 0)
    {
        lastClean = -1;
        ISystemUnderTest impl;
        try
        {
            impl = factory(platform);
        }
        catch (Exception e)
        {
            return Crashes.Of(FindingKind.ImplementationCrash, 0, "the implementation's constructor", e);
        }
        StateBaseline? baseline = null;
        for (int i = 0; i < ops.Count; i++)
        {
            try
            {
                int done = i + 1;
                bool due = (checkAll && i >= from) || i == ops.Count - 1 || (every <= 1 ? (done & (done - 1)) == 0 : done % every == 0);
                var before = due ? impl.ExportState() : null;
                var outcome = impl.Apply(ops[i]);
                if (outcome is Failed f && f.Error.Message.StartsWith("internal error", StringComparison.Ordinal))
                    return new Finding(FindingKind.ImplementationCrash, i, "CRASH", $"{impl.Name} reported {f.Error.Message}");
                if (before is null) continue;
                var after = impl.ExportState();
                var violations = InvariantChecker.CheckStep(before, ops[i], outcome, after)
                    .Concat(StateBaseline.CheckAndAdvance(ref baseline, after)).ToList();
                if (violations.Count > 0)
                    return new Finding(FindingKind.InvariantViolation, i, violations[0].Invariant, string.Join("; ", violations));
                lastClean = i;
            }
            catch (Exception e)
            {
                return Crashes.Of(FindingKind.ImplementationCrash, i, impl.Name, e);
            }
        }
        return null;
    }

    /// <summary>Model and implementation in step: every outcome refined, the model's state judged
    /// incrementally after every step, the implementation's exported state after steps 1, 2, 4,
    /// … (every n-th with <paramref name="every"/> &gt; 1) and at the end.</summary>
    private static Finding? Refine(PropertyCase c, PlatformConfig platform, List<Op> ops, Func<PlatformConfig, ISystemUnderTest> factory, int every, ModelOptions model)
    {
        var options = new RefinementOptions { InvariantEvery = every, InvariantCheckpoints = every <= 1, Model = model };
        var session = Prepared(c, platform, factory, model).Start(options);
        foreach (var op in ops)
            if (session.Step(op) is not null) break;
        return session.CheckInvariants();
    }

    /// <summary>Model and implementation built once per (preset, extra devices, implementation)
    /// on this thread and restored for every case that shares them (most cases add no device).</summary>
    private static PreparedSystems Prepared(PropertyCase c, PlatformConfig platform, Func<PlatformConfig, ISystemUnderTest> factory, ModelOptions model)
    {
        var cache = _prepared ??= new Dictionary<(string, ValueList<DeviceConfig>, Func<PlatformConfig, ISystemUnderTest>, ModelOptions), PreparedSystems>();
        var key = (c.Preset, c.Devices, factory, model);
        if (cache.TryGetValue(key, out var prepared)) return prepared;
        if (cache.Count >= PreparedPerThread) cache.Clear();
        return cache[key] = new PreparedSystems(platform, factory, model);
    }

    private const int PreparedPerThread = 32;
    [ThreadStatic] private static Dictionary<(string, ValueList<DeviceConfig>, Func<PlatformConfig, ISystemUnderTest>, ModelOptions), PreparedSystems>? _prepared;

    /// <summary>
    /// iommufd's fail_nth: run the case once to count the implementation's internal allocations,
    /// then once per n with the n-th allocation failing. The model (AllowResourceFailures)
    /// accepts OutOfMemory from ops that allocate; the op that meets the failure must change
    /// nothing (INV-15), and the run goes on refining the model. The clean run saves both
    /// systems before every op, so the run for n starts from the op where the n-th allocation
    /// happens instead of from the first op.
    /// </summary>
    private static Finding? FaultSweep(PlatformConfig platform, List<Op> ops, Func<PlatformConfig, ISystemUnderTest> factory, ModelOptions model)
    {
        var options = new RefinementOptions { Model = model with { AllowResourceFailures = true } };
        var session = new RefinementSession(platform, factory, options);
        if (session.Failed) return session.Finding;
        var impl = session.Implementation;
        var points = new List<(SessionSnapshot Point, long Attempts)>(ops.Count);
        try
        {
            foreach (var op in ops)
            {
                points.Add((session.Save(), impl.AllocationAttempts));
                if (session.Step(op) is { } f) return f;
            }
        }
        catch (Exception e)
        {
            return Crashes.Of(FindingKind.ImplementationCrash, points.Count - 1, "snapshot", e);
        }
        if (session.CheckInvariants() is { } g) return g;
        long total = impl.AllocationAttempts - points[0].Attempts;
        int from = 0;
        for (long n = 1; n <= total; n++)
        {
            // The op during which the n-th allocation happens: the last one started before it.
            long nth = points[0].Attempts + n;
            while (from + 1 < points.Count && points[from + 1].Attempts < nth) from++;
            session.Restore(points[from].Point);
            impl.FailNthAllocation((int)(nth - points[from].Attempts));
            for (int i = from; i < ops.Count; i++)
            {
                SystemState? before = null;
                try
                {
                    before = ModelSystem.CanFailForMemory(ops[i]) ? impl.ExportState() : null;
                }
                catch (Exception e)
                {
                    return Crashes.Of(FindingKind.ImplementationCrash, i, "state export", e);
                }
                if (session.Step(ops[i]) is { } finding)
                    return finding with { Message = $"fail-nth {n}: {finding.Message}" };
                if (before is not null && session.Steps[^1].Expected is Failed { Kind: DmaErrorKind.OutOfMemory })
                {
                    var diff = StateDiff.Differences(before, impl.ExportState());
                    if (diff.Count > 0)
                        return new Finding(FindingKind.InvariantViolation, i, "INV-15", $"fail-nth {n}: the op failed with OutOfMemory but changed: {string.Join("; ", diff)}");
                }
            }
        }
        return null;
    }
}
