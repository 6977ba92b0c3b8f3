using DmaVerify.Properties.Tests.Catalogue;
using System.Globalization;
using System.Text;
using DmaVerify.Properties.Tests.Support;
using Xunit.Abstractions;

namespace DmaVerify.Properties.Tests.PlantedBugs;

/// <summary>
/// Measurements for docs/properties.md (opt-in, Category=Long): every catalogue run that takes
/// an implementation, at its default budget, against every planted bug (found or not, shrunk
/// size), and every catalogue run on the clean implementations (cases/s, ops/s). Writes the
/// tables to the test log and to $TMPDIR/dmaverify-properties-measurements.md.
/// </summary>
[Trait("Category", "Long")]
public class DetectionMatrixTests(ITestOutputHelper output)
{
    [Fact]
    public void MeasureEveryRunAndEveryPlantedBug()
    {
        if (!LongRuns.Enabled) { output.WriteLine($"set {LongRuns.Variable}=1 to run"); return; }
        var ci = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine("| run | cases | seconds | cases/s | ops/s | result |").AppendLine("|---|---|---|---|---|---|");
        foreach (var run in TestCatalogue.Default.All)
        {
            var r = run.Run(new PropertyRunOptions { IgnoreEnvironment = true, WriteRegression = false });
            text.AppendLine(ci, $"| {run.Name} | {r.TestsRun} | {r.Seconds:F1} | {r.CasesPerSecond:F1} | {(r.Seconds > 0 ? r.OpsRun / r.Seconds : 0):F0} | {(r.Passed ? "passed" : $"FAILED {r.Finding?.Signature}")} |");
        }
        var bugs = Planting.Decorators.ToList();
        text.AppendLine().Append("| run | ").AppendJoin(" | ", bugs).AppendLine(" | found |")
            .Append("|---|").Append(string.Concat(bugs.Select(_ => "---|"))).AppendLine("---|");
        foreach (var spec in TestCatalogue.Default.All.OfType<PropertySpec>().Where(s => s.Implementation is not null))
        {
            int found = 0;
            text.Append(ci, $"| {spec.Name} |");
            foreach (var bug in bugs)
            {
                var r = Planting.Planted(spec, bug).Run(new PropertyRunOptions { IgnoreEnvironment = true, WriteRegression = false, MaxShrinkRuns = 1500 });
                if (!r.Passed) found++;
                text.Append(ci, $" {(r.Passed ? "–" : $"{r.TestsRun} cases, {r.ShrunkOps} ops")} |");
            }
            text.AppendLine(ci, $" {found}/{bugs.Count} |");
        }
        output.WriteLine(text.ToString());
        File.WriteAllText(Path.Combine(Path.GetTempPath(), "dmaverify-properties-measurements.md"), text.ToString());
    }
}
