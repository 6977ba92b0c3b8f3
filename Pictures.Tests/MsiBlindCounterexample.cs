using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;
using DmaVerify.Cli.Composition;

namespace DmaVerify.Tests.ShowSvg;

/// <summary>
/// A real counterexample from the implementation side, for the SVG renderer and the docs
/// picture. Planted bug (test-only): the optimized implementation is built from the x86-vtd
/// platform with the MSI doorbell window (0xFEE00000..0xFEEFFFFF) left out of its IOMMU's
/// reserved regions, as an implementation that forgets to reserve it would be. Its allocator
/// then hands that window out: after a 16 MiB and a 1 MiB map, the next 1 MiB lands on
/// 0xFEE00000. The model, which has the window, reports the divergence at that step; the
/// invariant checker, run on the implementation's exported state judged against the real
/// platform, names the broken ranges (INV-02, INV-03).
/// </summary>
internal static class MsiBlindCounterexample
{
    public const string Preset = Presets.X86Vtd;

    public static readonly Op[] Ops =
    [
        new Map(1, new PhysAddr(0x2000_0000), 0x100_0000, DmaDirection.FromDevice),
        new Map(1, new PhysAddr(0x1100_0000), 0x10_0000, DmaDirection.ToDevice),
        new Map(1, new PhysAddr(0x1200_0000), 0x10_0000, DmaDirection.ToDevice),
    ];

    /// <param name="ModelAnswer">What the model answers at the finding's step (null without one).</param>
    public sealed record Result(SystemState State, IReadOnlyList<Violation> Violations, Finding? Finding, Outcome? ModelAnswer, Scenario Scenario);

    /// <summary>The platform with every MSI region dropped: the planted bug.</summary>
    public static PlatformConfig WithoutMsiRegions(PlatformConfig platform) => platform with
    {
        Iommus = platform.Iommus.Select(i => i with { Regions = i.Regions.Where(r => r.Type != ReservedRegionType.Msi).ToArray() }).ToArray(),
    };

    public static Result Run()
    {
        var platform = Presets.Get(Preset);
        var optimized = Implementations.Registry.Get(Implementations.Optimized).Create;
        var session = new RefinementSession(platform, p => optimized(WithoutMsiRegions(p)));
        foreach (var op in Ops)
            if (session.Step(op) is not null) break;

        var exported = session.Implementation.ExportState();
        var judged = new SystemState
        {
            Platform = platform,
            NowMs = exported.NowMs,
            Devices = exported.Devices,
            Domains = exported.Domains,
            Mappings = exported.Mappings,
            Bounces = exported.Bounces,
        };
        Outcome? modelAnswer = null;
        if (session.Finding is { } finding)
        {
            var model = new ModelSystem(platform);
            // Adopt the implementation's earlier answers, as the session did, then ask.
            foreach (var step in session.Steps.Take(finding.Step)) model.Check(step.Op, step.Expected!);
            modelAnswer = model.DryRun(session.Steps[finding.Step].Op);
        }
        return new Result(judged, InvariantChecker.Check(judged), session.Finding, modelAnswer, session.ToScenario(Preset));
    }
}
