using DmaVerify.Contracts;
using DmaVerify.Pictures.Svg;
using DmaVerify.Cli.Text;
using DmaVerify.Cli.Verbs;
using DmaVerify.Model;

namespace DmaVerify.Tests.ShowSvg;

/// <summary>
/// The two pictures in docs/pictures/: a soc-vcm scenario exactly as
/// <c>verify show corpus/examples/soc-vcm-shared-tables.scn --svg OUT</c> draws it (run from the
/// repository root), and the <see cref="MsiBlindCounterexample"/>.
/// </summary>
internal static class DocsPictures
{
    public const string SocVcmScenario = "corpus/examples/soc-vcm-shared-tables.scn";
    public const string SocVcmName = "soc-vcm-shared-tables";
    public const string CounterexampleName = "counterexample-msi-window";

    public static string PictureFolder => Path.Combine(Repo.Root, "docs", "pictures");

    public static string SocVcmSvg()
    {
        string path = Path.Combine(Repo.Root, SocVcmScenario);
        var error = new StringWriter();
        if (!ScenarioLoader.TryLoadAndRun(path, ScenarioTextForm.Current, error, out var scenario, out var report, out _))
            throw new InvalidOperationException(error.ToString());
        return ShowVerb.Svg(SocVcmScenario, scenario, report, report.FinalState!, ScenarioTextForm.Current);
    }

    public static string CounterexampleSvg()
    {
        var result = MsiBlindCounterexample.Run();
        var notes = new List<string>
        {
            "Planted bug (test-only, Pictures.Tests/MsiBlindCounterexample.cs): the optimized implementation is built without the " +
            "x86-vtd MSI doorbell window in its IOMMU's reserved regions. The ops it ran, with its answers:",
        };
        notes.AddRange(result.Scenario.Steps.Select((s, i) => $"  step {i}: {ScenarioPrinter.FormatStep(s)}"));
        if (result.Finding is { } f)
            notes.Add($"RefinementSession: at step {f.Step} the model allows '{ScenarioPrinter.FormatOutcome(result.ModelAnswer!)}' " +
                      $"where the implementation answered '{ScenarioPrinter.FormatOutcome(result.Scenario.Steps[f.Step].Expected!)}' " +
                      $"({f.Kind}, {f.Invariant}).");
        notes.Add("Drawn: the implementation's exported state, with the violations InvariantChecker.Check reports for it on the real platform.");
        return IovaSpaceSvgRenderer.Render(result.State, result.Violations,
            "counterexample: an implementation that forgets to reserve the MSI window (x86-vtd)", notes, onlyPanelsWithViolations: true);
    }
}
