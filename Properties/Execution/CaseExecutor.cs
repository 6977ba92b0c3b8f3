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
    public static Finding? Run(PropertyCase c, Engine engine, Func<PlatformConfig, ISystemUnderTest>? implementation, int invariantEvery = 1)
    {
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
            Engine.ModelInvariants => ModelAlone(platform, ops, invariantEvery),
            Engine.ImplementationInvariants => ImplementationAlone(platform, ops, Require(implementation), invariantEvery),
            Engine.Refinement => Refine(platform, ops, Require(implementation), invariantEvery),
            Engine.FaultSweep => FaultSweep(platform, ops, Require(implementation)),
            _ => throw new ArgumentOutOfRangeException(nameof(engine), engine, "unknown engine"),
        };
    }

    private static Func<PlatformConfig, ISystemUnderTest> Require(Func<PlatformConfig, ISystemUnderTest>? implementation) =>
        implementation ?? throw new ArgumentException("this engine needs an implementation");

    private static Finding? ModelAlone(PlatformConfig platform, List<Op> ops, int every)
    {
        ModelSystem model;
        try
        {
            model = new ModelSystem(platform);
        }
        catch (Exception e)
        {
            return Crashes.Of(FindingKind.ToolCrash, 0, "the model's constructor", e);
        }
        for (int i = 0; i < ops.Count; i++)
        {
            try
            {
                bool full = every <= 1 || (i + 1) % every == 0 || i == ops.Count - 1;
                var before = full ? model.State.Clone() : null;
                var outcome = model.Apply(ops[i]);
                if (before is null) continue;
                var violations = InvariantChecker.CheckStep(before, ops[i], outcome, model.State)
                    .Concat(InvariantChecker.Check(model.State)).ToList();
                if (violations.Count > 0)
                    return new Finding(FindingKind.InvariantViolation, i, violations[0].Invariant, string.Join("; ", violations));
            }
            catch (Exception e)
            {
                return Crashes.Of(FindingKind.ToolCrash, i, "the model or the checker", e);
            }
        }
        return null;
    }

    private static Finding? ImplementationAlone(PlatformConfig platform, List<Op> ops, Func<PlatformConfig, ISystemUnderTest> factory, int every)
    {
        ISystemUnderTest impl;
        try
        {
            impl = factory(platform);
        }
        catch (Exception e)
        {
            return Crashes.Of(FindingKind.ImplementationCrash, 0, "the implementation's constructor", e);
        }
        for (int i = 0; i < ops.Count; i++)
        {
            try
            {
                bool full = every <= 1 || (i + 1) % every == 0 || i == ops.Count - 1;
                var before = full ? impl.ExportState() : null;
                var outcome = impl.Apply(ops[i]);
                if (outcome is Failed f && f.Error.Message.StartsWith("internal error", StringComparison.Ordinal))
                    return new Finding(FindingKind.ImplementationCrash, i, "CRASH", $"{impl.Name} reported {f.Error.Message}");
                if (before is null) continue;
                var after = impl.ExportState();
                var violations = InvariantChecker.CheckStep(before, ops[i], outcome, after)
                    .Concat(InvariantChecker.Check(after)).ToList();
                if (violations.Count > 0)
                    return new Finding(FindingKind.InvariantViolation, i, violations[0].Invariant, string.Join("; ", violations));
            }
            catch (Exception e)
            {
                return Crashes.Of(FindingKind.ImplementationCrash, i, impl.Name, e);
            }
        }
        return null;
    }

    private static Finding? Refine(PlatformConfig platform, List<Op> ops, Func<PlatformConfig, ISystemUnderTest> factory, int every) =>
        RefinementSession.Run(platform, ops, factory, new RefinementOptions { InvariantEvery = every }).Finding;

    /// <summary>
    /// iommufd's fail_nth: run the case once to count the implementation's internal allocations,
    /// then once per n with the n-th allocation failing. The model (AllowResourceFailures)
    /// accepts OutOfMemory from ops that allocate; the op that meets the failure must change
    /// nothing (INV-15), and the run goes on refining the model.
    /// </summary>
    private static Finding? FaultSweep(PlatformConfig platform, List<Op> ops, Func<PlatformConfig, ISystemUnderTest> factory)
    {
        var options = new RefinementOptions { Model = new ModelOptions { AllowResourceFailures = true } };
        var clean = new RefinementSession(platform, factory, options);
        long start = clean.Implementation.AllocationAttempts;
        foreach (var op in ops)
            if (clean.Step(op) is { } f) return f;
        if (clean.CheckInvariants() is { } g) return g;
        long total = clean.Implementation.AllocationAttempts - start;
        for (int n = 1; n <= total; n++)
        {
            var session = new RefinementSession(platform, factory, options);
            session.Implementation.FailNthAllocation(n);
            for (int i = 0; i < ops.Count; i++)
            {
                SystemState? before = null;
                try
                {
                    before = ModelSystem.CanFailForMemory(ops[i]) ? session.Implementation.ExportState() : null;
                }
                catch (Exception e)
                {
                    return Crashes.Of(FindingKind.ImplementationCrash, i, "state export", e);
                }
                if (session.Step(ops[i]) is { } finding)
                    return finding with { Message = $"fail-nth {n}: {finding.Message}" };
                if (before is not null && session.Steps[^1].Expected is Failed { Kind: DmaErrorKind.OutOfMemory })
                {
                    var diff = StateDiff.Differences(before, session.Implementation.ExportState());
                    if (diff.Count > 0)
                        return new Finding(FindingKind.InvariantViolation, i, "INV-15", $"fail-nth {n}: the op failed with OutOfMemory but changed: {string.Join("; ", diff)}");
                }
            }
        }
        return null;
    }
}
