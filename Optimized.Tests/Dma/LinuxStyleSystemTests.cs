using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;
using DmaVerify.Optimized.Dma;
using DmaVerify.Cli.Composition;

namespace DmaVerify.Tests.Dma;

/// <summary>
/// The LinuxStyle-backed DMA system ("linuxstyle"): its max32_alloc_size shortcut shows up at the
/// DMA layer as an INV-11 divergence; a run that accepts known incompleteness counts exactly
/// those and fails on everything else.
/// </summary>
public class LinuxStyleSystemTests
{
    private const int Sata = 1; // x86-vtd: a PCI device with a 32-bit mask

    /// <summary>A 24-bit mask, fill the 16 MiB below it with 64 KiB maps, one more fails (walk
    /// failed: max32_alloc_size = 16 pages); back to a 32-bit mask, a 64 KiB map fits but the
    /// shortcut refuses it.</summary>
    private static List<Op> Max32Scenario()
    {
        var ops = new List<Op> { new SetMask(Sata, 0xFF_FFFF, 0xFF_FFFF) };
        for (int i = 0; i < 256; i++) ops.Add(new Map(Sata, new PhysAddr(0x1000_0000 + (ulong)i * 0x1_0000), 0x1_0000, DmaDirection.ToDevice));
        ops.Add(new Map(Sata, new PhysAddr(0x2000_0000), 0x1_0000, DmaDirection.ToDevice));
        ops.Add(new SetMask(Sata, 0xFFFF_FFFF, 0xFFFF_FFFF));
        ops.Add(new Map(Sata, new PhysAddr(0x2000_0000), 0x1_0000, DmaDirection.ToDevice));
        ops.Add(new Unmap(Sata, new LiveRef(0), 0x1_0000, DmaDirection.ToDevice));
        ops.Add(new Map(Sata, new PhysAddr(0x2000_0000), 0x1_0000, DmaDirection.ToDevice));
        ops.Add(new Unmap(Sata, new LiveRef(0), 0x1_0000, DmaDirection.ToDevice));
        return ops;
    }

    private static RefinementOptions LinuxOptions(bool accept) => new()
    {
        Model = Implementations.Registry.Get(Implementations.LinuxStyle).ModelOptions,
        AcceptKnownIncompleteness = accept,
        InvariantEvery = 16,
    };

    [Fact]
    public void Max32Shortcut_IsAnInv11DivergenceOfTheLinuxStyleSystem()
    {
        var ops = Max32Scenario();
        var report = RefinementSession.Run(Presets.Get(Presets.X86Vtd), ops, Implementations.Registry.Get(Implementations.LinuxStyle).Create, LinuxOptions(accept: false));
        Assert.False(report.Passed);
        Assert.Equal(FindingKind.Divergence, report.Finding!.Kind);
        Assert.Equal("INV-11", report.Finding.Invariant);
        Assert.Equal(259, report.Finding.Step); // the map after the mask was widened
        // The optimized system (augmented tree) maps it.
        var optimized = RefinementSession.Run(Presets.Get(Presets.X86Vtd), ops, Implementations.Registry.Get(Implementations.Optimized).Create);
        Assert.True(optimized.Passed, optimized.Finding?.ToString());
    }

    [Fact]
    public void Max32Shortcut_IsCountedAsKnownIncompletenessWhenAccepted()
    {
        var session = new RefinementSession(Presets.Get(Presets.X86Vtd), Implementations.Registry.Get(Implementations.LinuxStyle).Create, LinuxOptions(accept: true));
        foreach (var op in Max32Scenario()) session.Step(op);
        Assert.Null(session.CheckInvariants());
        Assert.Null(session.Finding);
        // The unmap in between parks its range in a magazine, so no tree free resets the hint
        // (as in Linux): the map after it is refused again.
        Assert.Equal([259, 261], session.KnownDeviations.Select(k => k.Step));
        Assert.All(session.KnownDeviations, k =>
        {
            Assert.Equal("INV-11", k.Divergence.Invariant);
            Assert.Contains("max32", k.Reason);
        });
        // The log counts every OutOfIova the shortcut ended, including the two under the 24-bit
        // mask where nothing fitted anyway (retry after the flush hit the hint the walk had set).
        Assert.Contains("4 refused allocation", ((IKnownIncompleteness)session.Implementation).KnownIncompletenessSummary);
    }

    [Fact]
    public void AcceptingKnownIncompleteness_StillFailsAnOutOfIovaTheImplementationDoesNotExplain()
    {
        // Planted: every map says OutOfIova; the implementation does not attribute it.
        var report = RefinementSession.Run(Presets.Get(Presets.X86Vtd), Max32Scenario(),
            p => new Planted(Implementations.Registry.Get(Implementations.LinuxStyle).Create(p), reason: null), LinuxOptions(accept: true));
        Assert.False(report.Passed);
        Assert.Equal("INV-11", report.Finding!.Invariant);
        Assert.Empty(report.KnownDeviations);
    }

    [Fact]
    public void AcceptingKnownIncompleteness_OnlyCoversInv11OutOfIova()
    {
        // Planted: maps answer one page off and the implementation claims the shortcut anyway.
        var report = RefinementSession.Run(Presets.Get(Presets.X86Vtd), Max32Scenario(),
            p => new Planted(Implementations.Registry.Get(Implementations.LinuxStyle).Create(p), reason: "claimed", shiftInstead: true), LinuxOptions(accept: true));
        Assert.False(report.Passed);
        Assert.Equal(FindingKind.Divergence, report.Finding!.Kind);
        Assert.NotEqual("INV-11", report.Finding.Invariant);
    }

    [Fact]
    public void OptimizedSystem_NeverReportsTheShortcut()
    {
        var system = new OptimizedSystem(Presets.Get(Presets.X86Vtd));
        foreach (var op in Max32Scenario()) system.Apply(op);
        Assert.Equal(0, system.Max32Shortcut.RefusedAllocations + system.Max32Shortcut.RefusedPci32Passes);
    }

    /// <summary>Found by CI in topology/linuxstyle/soc-vcm: a map that fits nowhere under a
    /// 25-bit mask sets max32_alloc_size; another device's 64 MiB coherent allocation below 4 GiB
    /// is then refused without a walk although the model maps it.</summary>
    private static Scenario LowLimitFailureThenCoherent()
    {
        var parsed = ScenarioParser.ParseFile(Path.Combine(Repo.Root, "corpus/regressions/soc-vcm-linuxstyle-max32-after-low-limit-failure.scn"));
        Assert.True(parsed.IsSuccess, parsed.ErrorText);
        return parsed.Scenario!;
    }

    [Fact]
    public void LinuxStyle_IsCheckedWithItsKnownIncompletenessCounted_OptimizedIsNot()
    {
        var scenario = LowLimitFailureThenCoherent();
        Assert.True(scenario.TryBuildPlatform(out var platform, out string error), error);
        var ops = scenario.Steps.Select(s => s.Op).ToList();
        var linux = Implementations.Registry.Get(Implementations.LinuxStyle);
        Assert.True(linux.AcceptKnownIncompleteness);

        var counted = RefinementSession.Run(platform, ops, linux.Create, linux.Refinement);
        Assert.True(counted.Passed, counted.Finding?.ToString());
        Assert.Equal([3], counted.KnownDeviations.Select(k => k.Step));

        var strict = RefinementSession.Run(platform, ops, linux.Create, linux.Refinement with { AcceptKnownIncompleteness = false });
        Assert.Equal((FindingKind.Divergence, "INV-11", 3), (strict.Finding!.Kind, strict.Finding.Invariant, strict.Finding.Step));

        var optimized = Implementations.Registry.Get(Implementations.Optimized);
        Assert.False(optimized.AcceptKnownIncompleteness);
        var mapped = RefinementSession.Run(platform, ops, optimized.Create, optimized.Refinement);
        Assert.True(mapped.Passed, mapped.Finding?.ToString());
        Assert.IsType<Mapped>(mapped.Steps[3].Expected);
    }

    /// <summary>The invariants on the implementation's own states (the properties engine's
    /// invariants runs, replay's step check, explore's every-op check) drop the same INV-11, and
    /// only it, and only when asked to.</summary>
    [Fact]
    public void TheStepInvariantsExcuseOnlyTheExplainedInv11()
    {
        var scenario = LowLimitFailureThenCoherent();
        Assert.True(scenario.TryBuildPlatform(out var platform, out _));
        var sut = Implementations.Registry.Get(Implementations.LinuxStyle).Create(platform);
        var ops = scenario.Steps.Select(s => s.Op).ToList();
        foreach (var op in ops.Take(3)) sut.Apply(op);
        var before = sut.ExportState();
        var outcome = sut.Apply(ops[3]);
        var violations = InvariantChecker.CheckStep(before, ops[3], outcome, sut.ExportState());
        Assert.Contains(violations, v => v.Invariant == "INV-11");
        var other = new Violation("INV-10", 1, null, "planted");

        Assert.Equal([other], KnownIncompleteness.Unexplained([.. violations, other], sut, outcome, accept: true));
        Assert.Equal(violations.Count + 1, KnownIncompleteness.Unexplained([.. violations, other], sut, outcome, accept: false).Count);
        Assert.Null(KnownIncompleteness.Explains(sut, "INV-11", new Failed(DmaErrorKind.OutOfMemory, "planted")));
    }

    private sealed class Planted(ISystemUnderTest inner, string? reason, bool shiftInstead = false) : ISystemUnderTest, IKnownIncompleteness
    {
        private bool _planted;
        public string Name => "planted";
        public Outcome Apply(Op op)
        {
            var outcome = inner.Apply(op);
            _planted = op is Map && outcome is Mapped;
            if (!_planted) return outcome;
            if (shiftInstead) return ((Mapped)outcome) with { Dma = new DmaAddr(((Mapped)outcome).Dma.Value + 0x1000) };
            return new Failed(DmaErrorKind.OutOfIova, "planted");
        }
        public SystemState ExportState() => inner.ExportState();
        public void FailNthAllocation(int n) => inner.FailNthAllocation(n);
        public long AllocationAttempts => inner.AllocationAttempts;

        private sealed class Saved(SystemSnapshot inner, bool planted) : SystemSnapshot(inner.Platform)
        {
            public SystemSnapshot Inner { get; } = inner;
            public bool Planted { get; } = planted;
        }

        public SystemSnapshot Snapshot() => new Saved(inner.Snapshot(), _planted);

        public void Restore(SystemSnapshot snapshot)
        {
            if (snapshot is not Saved saved) throw new ArgumentException("not a snapshot of the planted system", nameof(snapshot));
            inner.Restore(saved.Inner);
            _planted = saved.Planted;
        }

        public string? KnownIncompletenessOfLastOp => _planted ? reason : null;
        public string KnownIncompletenessSummary => "planted";
    }
}
