using DmaVerify.Cli;
using DmaVerify.Cli.Text;
using DmaVerify.Cli.Verbs;
using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;
using DmaVerify.Optimized.Dma;

namespace DmaVerify.Tests.Cli;

/// <summary>
/// `verify replay FILE --impl NAME` judges the implementation's steps as the property engine's
/// invariants runs do (its states before and after each op), so the replay line `verify check`
/// prints for such a failure reproduces it. Found when `verify check --long --engine props
/// --seed 20261203` failed invariants/optimized/amd-vi with INV-15 and its replay line passed.
/// </summary>
public sealed class ReplayImplStepCheckTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dmaverify-stepcheck-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>OptimizedSystem with a planted change by a failed op (its clock moves on a
    /// millisecond): a state every state invariant accepts, which only the step check (INV-15)
    /// sees, as with the seed-20261203 finding (a page-table page left by a failed map_sg).</summary>
    private sealed class ChangesStateOnFailure(PlatformConfig platform) : ISystemUnderTest
    {
        private readonly OptimizedSystem _inner = new(platform);
        private ulong _drift;
        public string Name => "changes-on-failure";

        public Outcome Apply(Op op)
        {
            var outcome = _inner.Apply(op);
            if (outcome is Failed) _drift++;
            return outcome;
        }

        public SystemState ExportState()
        {
            var state = _inner.ExportState();
            state.NowMs += _drift;
            return state;
        }

        public void FailNthAllocation(int n) => _inner.FailNthTablePage(n);
        public long AllocationAttempts => 0;

        private sealed class Saved(SystemSnapshot inner, ulong drift) : SystemSnapshot(inner.Platform)
        {
            public SystemSnapshot Inner { get; } = inner;
            public ulong Drift { get; } = drift;
        }

        public SystemSnapshot Snapshot() => new Saved(_inner.Snapshot(), _drift);

        public void Restore(SystemSnapshot snapshot)
        {
            if (snapshot is not Saved saved) throw new ArgumentException("not a snapshot of the planted system", nameof(snapshot));
            _inner.Restore(saved.Inner);
            _drift = saved.Drift;
        }
    }

    [Fact]
    public void AFailedOpThatChangesTheImplementationsStateFailsTheReplay()
    {
        string file = Path.Combine(_dir, "fails.scn");
        File.WriteAllText(file, "preset x86-vtd\nmap dev=0 phys=0x10000000 len=0x1000 dir=to_device\nmap dev=0 phys=0x1000 len=0 dir=to_device\n");
        var planted = new Implementation("changes-on-failure", p => new ChangesStateOnFailure(p), new ModelOptions());

        // The refinement run alone checks the state at its end, where the change does not show.
        var scenario = ScenarioTextForm.Current.Parse(File.ReadAllText(file), file).Scenario!;
        Assert.True(scenario.TryBuildPlatform(out var platform, out _));
        Assert.True(RefinementSession.Run(platform, scenario.Steps.Select(s => s.Op), planted.Create).Passed);

        var output = new StringWriter();
        int code = ScenarioRefinementReplay.Run(file, planted, output, new StringWriter(), ScenarioTextForm.Current);
        Assert.Equal(ExitCodes.Failed, code);
        Assert.Contains("changes-on-failure breaks INV-15 at step 1", output.ToString());
        Assert.Contains("result: FAILED (InvariantViolation INV-15 at step 1 of 2", output.ToString());

        var clean = new Implementation("optimized", p => new OptimizedSystem(p), new ModelOptions());
        Assert.Equal(ExitCodes.Ok, ScenarioRefinementReplay.Run(file, clean, new StringWriter(), new StringWriter(), ScenarioTextForm.Current));
    }
}
