using DmaVerify.Contracts;
using DmaVerify.Optimized.Dma;
using DmaVerify.Optimized.Iova;
using Plant = DmaVerify.Optimized.Dma.OptimizedSystem.SnapshotPlant;

namespace DmaVerify.Tests.Dma;

/// <summary>
/// <see cref="OptimizedSystem.Snapshot"/> / <see cref="OptimizedSystem.Restore"/> on every preset
/// and variant, for both configurations: random runs take snapshots along the way; each one,
/// restored (with a table-page failure armed just before, which the restore must cancel), gives
/// back the exported state and allocation count of its time, and replaying the ops that
/// followed gives the same outcomes and the same final state, in the same system and in a
/// second one. Each check is seen failing on a planted snapshot bug.
/// </summary>
public class SnapshotRestoreTests
{
    private const int Ops = 240;
    private const int Every = 40;

    public static TheoryData<string, string> PresetsAndConfigurations()
    {
        var data = new TheoryData<string, string>();
        foreach (var preset in Presets.Names.Concat(Presets.Variants))
            foreach (var name in new[] { "optimized", "linuxstyle" }) data.Add(preset, name);
        return data;
    }

    private static OptimizedSystemOptions OptionsOf(string name) =>
        name == "linuxstyle" ? OptimizedSystemOptions.LinuxStyle : OptimizedSystemOptions.Optimized;

    /// <summary>An allocator as a C library would give it: no cloning; the DMA layer must
    /// replay its calls to copy it.</summary>
    private class ForeignAllocator(ulong startPfn, int shift) : IIovaAllocator
    {
        private readonly AugmentedIovaAllocator _inner = new(startPfn, shift, cacheSlots: 1);
        public ulong StartPfn => _inner.StartPfn;
        public ulong MaxPfn => _inner.MaxPfn;
        public virtual ulong AllocFast(ulong pages, ulong limitPfn, bool flush) => _inner.AllocFast(pages, limitPfn, flush);
        public bool FreeFast(ulong pfn, ulong pages) => _inner.FreeFast(pfn, pages);
        public ulong Alloc(ulong pages, ulong limitPfn, bool sizeAligned) => _inner.Alloc(pages, limitPfn, sizeAligned);
        public bool Free(ulong pfn) => _inner.Free(pfn);
        public bool Reserve(ulong lo, ulong hi) => _inner.Reserve(lo, hi);
        public void FlushCaches() => _inner.FlushCaches();
        public bool Contains(ulong pfn) => _inner.Contains(pfn);
        public int Count => _inner.Count;
        public int CachedCount => _inner.CachedCount;
        public IReadOnlyList<IovaRange> Ranges() => _inner.Ranges();
    }

    private static readonly OptimizedSystemOptions Foreign = new()
    {
        Name = "foreign", IovaAllocator = static (start, shift) => new ForeignAllocator(start, shift),
    };

    private sealed record Checkpoint(int Step, SystemSnapshot Snapshot, string State, long Attempts);

    /// <summary>The round trip described in the class comment; the first problem, or null.</summary>
    private static string? RoundTrip(string preset, OptimizedSystemOptions options, Plant plant, int seed)
    {
        var platform = Presets.Get(preset);
        var system = new OptimizedSystem(platform, options) { PlantedSnapshotBug = plant };
        var generator = new DomainOps(platform, new Random(seed));
        var checkpoints = new List<Checkpoint>();
        var ops = new List<Op>();
        var outcomes = new List<string>();
        for (int step = 0; step < Ops; step++)
        {
            var state = system.ExportState();
            if (step % Every == 0) checkpoints.Add(new Checkpoint(step, system.Snapshot(), StateText.Of(state), system.TablePageAttempts));
            var op = generator.Next(state);
            ops.Add(op);
            outcomes.Add(ScenarioPrinter.FormatOutcome(system.Apply(op)));
        }
        string final = StateText.Of(system.ExportState());
        var second = new OptimizedSystem(platform, options) { PlantedSnapshotBug = plant };
        // Latest first, then the others: a snapshot must not depend on what was restored before.
        foreach (var point in checkpoints.AsEnumerable().Reverse().Concat(checkpoints))
            foreach (var (target, where) in new[] { (system, "same system"), (second, "second system") })
            {
                string at = $"{preset} {options.Name}, snapshot of step {point.Step} restored into the {where}";
                target.FailNthTablePage(1);
                target.Restore(point.Snapshot);
                if (StateText.FirstDifference(point.State, StateText.Of(target.ExportState())) is string d) return $"{at}: state differs, {d}";
                if (target.TablePageAttempts != point.Attempts) return $"{at}: {target.TablePageAttempts} table-page attempts, {point.Attempts} at snapshot time";
                for (int i = point.Step; i < Ops; i++)
                {
                    string got = ScenarioPrinter.FormatOutcome(target.Apply(ops[i]));
                    if (got != outcomes[i]) return $"{at}: step {i} {ScenarioPrinter.FormatOp(ops[i])} gave {got}, first time {outcomes[i]}";
                }
                if (StateText.FirstDifference(final, StateText.Of(target.ExportState())) is string f) return $"{at}: final state differs, {f}";
            }
        return null;
    }

    [Theory]
    [MemberData(nameof(PresetsAndConfigurations))]
    public void RestoreGivesBackTheStateAndTheSameFuture(string preset, string configuration) =>
        Assert.Null(RoundTrip(preset, OptionsOf(configuration), Plant.None, 1000 + preset.Length * 7));

    [Theory]
    [InlineData(Presets.X86Vtd)]
    [InlineData(Presets.AmdVi)]
    [InlineData(Presets.PowerTce)]
    [InlineData(Presets.ArmSmmu)]
    public void AForeignAllocatorWithoutCloningIsRebuiltByReplay(string preset) =>
        Assert.Null(RoundTrip(preset, Foreign, Plant.None, 77));

    [Theory]
    [InlineData(nameof(Plant.SharedPageTables), "state differs")]
    [InlineData(nameof(Plant.SharedAllocators), "gave")]
    [InlineData(nameof(Plant.KeepsArmedFailure), "out-of-memory")]
    public void PlantedSnapshotBugsAreCaught(string plantName, string symptom)
    {
        var plant = Enum.Parse<Plant>(plantName);
        var problem = RoundTrip(Presets.X86Vtd, OptimizedSystemOptions.Optimized, plant, 1000 + Presets.X86Vtd.Length * 7);
        Assert.NotNull(problem);
        Assert.Contains(symptom, problem);
    }

    [Fact]
    public void AForeignAllocatorRebuiltWithoutReplayIsCaught()
    {
        var problem = RoundTrip(Presets.X86Vtd, Foreign, Plant.ForeignNotReplayed, 77);
        Assert.NotNull(problem);
    }

    /// <summary>A foreign allocator whose instances place ranges a little differently from
    /// one another: a replay on a fresh one does not give back the original's answers.</summary>
    private sealed class DriftingAllocator(ulong startPfn, int shift, ulong drift) : ForeignAllocator(startPfn, shift)
    {
        private static long s_built;
        public static DriftingAllocator Build(ulong start, int shift) => new(start, shift, (ulong)Interlocked.Increment(ref s_built) % 4);
        public override ulong AllocFast(ulong pages, ulong limitPfn, bool flush) => base.AllocFast(pages, limitPfn - drift * 64, flush);
    }

    [Fact]
    public void AnAllocatorThatReplaysDifferentlyIsRefusedNotCopiedWrong()
    {
        var platform = Presets.Get(Presets.X86Vtd);
        var system = new OptimizedSystem(platform, new OptimizedSystemOptions { Name = "drifting", IovaAllocator = DriftingAllocator.Build });
        Assert.True(system.Apply(new SetDomainType(0, DomainType.Dma)).IsSuccess);
        Assert.Equal(typeof(Mapped), system.Apply(new Map(0, new PhysAddr(0x1000_0000), 0x1000, DmaDirection.ToDevice)).GetType());
        var error = Assert.Throws<InvalidOperationException>(() =>
        {
            for (int i = 0; i < 8; i++) system.Snapshot(); // some rebuild lands on another start PFN
        });
        Assert.Contains("cannot be copied", error.Message);
    }

    [Fact]
    public void ASnapshotOfAnotherKindOrPlatformIsRefusedAndChangesNothing()
    {
        var platform = Presets.Get(Presets.X86Vtd);
        var optimized = new OptimizedSystem(platform);
        optimized.Apply(new Map(0, new PhysAddr(0x1000_0000), 0x1000, DmaDirection.ToDevice));
        string before = StateText.Of(optimized.ExportState());
        var linux = new OptimizedSystem(platform, OptimizedSystemOptions.LinuxStyle);
        var otherPlatform = new OptimizedSystem(Presets.Get(Presets.X86Vtd));
        Assert.Contains("linuxstyle", Assert.Throws<ArgumentException>(() => optimized.Restore(linux.Snapshot())).Message);
        Assert.Contains("platform", Assert.Throws<ArgumentException>(() => optimized.Restore(otherPlatform.Snapshot())).Message);
        Assert.Throws<ArgumentException>(() => optimized.Restore(new AlienSnapshot(platform)));
        Assert.Equal(before, StateText.Of(optimized.ExportState()));
    }

    private sealed class AlienSnapshot(PlatformConfig platform) : SystemSnapshot(platform);

    [Fact]
    public void ASnapshotDoesNotChangeWhenTheSystemGoesOn()
    {
        var platform = Presets.Get(Presets.AmdVi);
        var system = new OptimizedSystem(platform);
        var initial = system.Snapshot();
        string text = StateText.Of(system.ExportState());
        var generator = new DomainOps(platform, new Random(5));
        for (int i = 0; i < 200; i++) system.Apply(generator.Next(system.ExportState()));
        var other = new OptimizedSystem(platform);
        other.Restore(initial);
        Assert.Equal(text, StateText.Of(other.ExportState()));
    }
}
