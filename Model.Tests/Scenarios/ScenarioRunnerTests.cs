using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Tests;

/// <summary>The replay runner on scripted systems: bad scenarios, crashes, expected outcomes.</summary>
public class ScenarioRunnerTests
{
    private static readonly Op Tick1 = new Tick(1);

    private static Scenario Ticks(int n, Outcome? expected = null) =>
        new(Presets.X86Vtd, ValueList<DeviceConfig>.Empty,
            Enumerable.Range(0, n).Select(_ => new ScenarioStep(Tick1, expected)).ToValueList());

    [Fact]
    public void CleanRunPasses()
    {
        var report = ScenarioRunner.Run(Ticks(3), p => new ScriptedTarget(p, _ => Done.Instance));
        Assert.Equal(ReplayStatus.Passed, report.Status);
        Assert.Equal(3, report.Steps.Count);
        Assert.All(report.Steps, s => Assert.True(s.IsClean));
        Assert.Equal([0, 1, 2], report.Steps.Select(s => s.Index));
        Assert.NotNull(report.FinalState);
    }

    [Fact]
    public void UnknownPresetIsAnErrorReportNotAnException()
    {
        var report = ScenarioRunner.Run(new Scenario("nope", [Tick1]));
        Assert.Equal(ReplayStatus.Invalid, report.Status);
        Assert.Contains("unknown preset 'nope'", report.Error);
        Assert.Empty(report.Steps);
        Assert.Null(report.FinalState);
    }

    [Fact]
    public void DeviceOverrideThatDoesNotBuildIsAnErrorReport()
    {
        var scenario = new Scenario(Presets.X86Vtd, ValueList.Of(new DeviceConfig { Id = 0, Iommu = 5 }), ValueList<ScenarioStep>.Empty);
        var report = ScenarioRunner.Run(scenario);
        Assert.Equal(ReplayStatus.Invalid, report.Status);
        Assert.Contains("names IOMMU 5", report.Error);
    }

    [Fact]
    public void StepWithoutAnOpIsAnErrorReport()
    {
        var scenario = new Scenario(Presets.Direct, ValueList<DeviceConfig>.Empty, ValueList.Of(new ScenarioStep(Tick1), new ScenarioStep(null!)));
        var report = ScenarioRunner.Run(scenario, p => new ScriptedTarget(p, _ => Done.Instance));
        Assert.Equal(ReplayStatus.Invalid, report.Status);
        Assert.Equal("step 1 has no op", report.Error);
    }

    [Fact]
    public void ConfigurationTheSystemRefusesIsAnErrorReport()
    {
        var report = ScenarioRunner.Run(Ticks(1), _ => throw new ArgumentException("dma mask 0x5 is not a DMA_BIT_MASK"));
        Assert.Equal(ReplayStatus.Invalid, report.Status);
        Assert.Contains("DMA_BIT_MASK", report.Error);
    }

    [Fact]
    public void CrashWhileBuildingTheSystemIsReportedWithoutAStep()
    {
        var report = ScenarioRunner.Run(Ticks(2), _ => throw new InvalidOperationException("boom"));
        Assert.Equal(ReplayStatus.Crashed, report.Status);
        Assert.Null(report.Crash!.Step);
        Assert.StartsWith("model crashed while building the initial state: InvalidOperationException: boom", report.Crash.ToString());
        Assert.Empty(report.Steps);
        Assert.Equal(2, report.StepsNotRun);
    }

    [Fact]
    public void ModelCrashIsARecordAtItsStepAndStopsTheRun()
    {
        int calls = 0;
        ScriptedTarget? target = null;
        var report = ScenarioRunner.Run(Ticks(4), p => target = new ScriptedTarget(p, _ =>
        {
            if (++calls == 2) throw new NotImplementedException("model executor: in progress");
            return Done.Instance;
        }));

        Assert.Equal(ReplayStatus.Crashed, report.Status);
        Assert.Equal(2, report.Steps.Count);
        Assert.True(report.Steps[0].IsClean);
        var crashed = report.Steps[1];
        Assert.Null(crashed.Outcome);
        Assert.Equal(1, crashed.Crash!.Step);
        Assert.Equal("model", crashed.Crash.Component);
        Assert.Equal(nameof(NotImplementedException), crashed.Crash.ExceptionType);
        Assert.StartsWith("model crashed at step 1: NotImplementedException: model executor: in progress", crashed.Crash.ToString());
        Assert.Same(crashed.Crash, report.Crash);
        Assert.Equal(1, report.StepsCompleted);
        Assert.Equal(2, report.StepsNotRun);
        Assert.Equal(2, target!.Applied);
        // The state shown afterwards is the copy taken before the crashing op, not the live one.
        Assert.NotSame(target.State, report.FinalState);
    }

    [Fact]
    public void NullOutcomeFromTheModelIsACrash()
    {
        var report = ScenarioRunner.Run(Ticks(1), p => new ScriptedTarget(p, _ => null!));
        Assert.Equal(ReplayStatus.Crashed, report.Status);
        Assert.Contains("Apply returned no outcome", report.Crash!.Message);
    }

    [Fact]
    public void DifferentOutcomeFromTheRecordedOneIsAMismatchNotAViolation()
    {
        var report = ScenarioRunner.Run(Ticks(2, expected: new Unmapped(0x1000)), p => new ScriptedTarget(p, _ => Done.Instance));
        Assert.Equal(ReplayStatus.Failed, report.Status);
        Assert.Equal(2, report.MismatchCount);
        Assert.Equal(0, report.ViolationCount);
        Assert.StartsWith("expected Unmapped {", report.Steps[0].Mismatch);
        Assert.EndsWith(", got ok", report.Steps[0].Mismatch);
    }

    [Fact]
    public void FailuresMatchOnTheirKindAlone()
    {
        var fail = new Failed(DmaErrorKind.WrongSize, "the implementation's words");
        var same = ScenarioRunner.Run(Ticks(1, expected: new Failed(DmaErrorKind.WrongSize, "recorded words")), p => new ScriptedTarget(p, _ => fail));
        Assert.Equal(ReplayStatus.Passed, same.Status);

        var other = ScenarioRunner.Run(Ticks(1, expected: new Failed(DmaErrorKind.DoubleUnmap, "")), p => new ScriptedTarget(p, _ => fail));
        Assert.Equal("expected error DoubleUnmap, got error WrongSize", other.Steps[0].Mismatch);
    }

    [Fact]
    public void StructuredOutcomesCompareByValue()
    {
        var seg = new SgMapped(ValueList.Of(new DmaSegment(new DmaAddr(0x1000), 0x2000)));
        var report = ScenarioRunner.Run(Ticks(1, expected: new SgMapped(ValueList.Of(new DmaSegment(new DmaAddr(0x1000), 0x2000)))),
            p => new ScriptedTarget(p, _ => seg));
        Assert.Equal(ReplayStatus.Passed, report.Status);
    }

    [Fact]
    public void BrokenStateIsReportedWhereItBrokeNotAtEveryLaterStep()
    {
        // Two overlapping live allocations (INV-01) appear at step 1 and stay.
        var platform = Presets.Get(Presets.X86Vtd);
        var iommu = platform.Iommus[0];
        var state = new SystemState { Platform = platform };
        var domain = new DomainState { Id = 0, Iommu = 0, Type = DomainType.Dma, Format = iommu.Format, Aperture = iommu.Aperture, AllocStart = 0x1000 };
        state.Domains.Add(domain);
        int step = 0;
        var report = ScenarioRunner.Run(Ticks(4), p => new ScriptedTarget(p, _ =>
        {
            if (++step == 2)
            {
                domain.Allocations.Add(new IovaAllocation(new AddrRange(0x10_0000, 0x10_FFFF), AllocationOwner.Mapping));
                domain.Allocations.Add(new IovaAllocation(new AddrRange(0x10_8000, 0x11_7FFF), AllocationOwner.Mapping));
            }
            return Done.Instance;
        }) { State = state });

        Assert.Equal(ReplayStatus.Failed, report.Status);
        Assert.Empty(report.Steps[0].Violations);
        Assert.Contains(report.Steps[1].Violations, v => v.Invariant == "INV-01");
        Assert.DoesNotContain(report.Steps[2].Violations, v => v.Invariant == "INV-01");
        Assert.DoesNotContain(report.Steps[3].Violations, v => v.Invariant == "INV-01");
    }
}
