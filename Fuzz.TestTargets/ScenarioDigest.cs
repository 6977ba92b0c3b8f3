using System.Text;
using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;
using DmaVerify.Optimized.Dma;

namespace DmaVerify.Fuzz.TestTargets;

/// <summary>
/// Runs a scenario (text form) on the model alone and model-vs-optimized, and returns every
/// outcome, violation and finding as text. Strings in, strings out: the same call made on the
/// original assemblies and on instrumented copies in another load context can be compared.
/// </summary>
public static class ScenarioDigest
{
    public static string Run(string scenarioText)
    {
        var parsed = ScenarioParser.Parse(scenarioText);
        if (!parsed.IsSuccess) return "parse error: " + parsed.ErrorText;
        var scenario = parsed.Scenario!;
        var sb = new StringBuilder();

        var replay = ScenarioRunner.Run(scenario);
        sb.Append("model: ").Append(replay.Status).Append(' ').AppendLine(replay.Error);
        foreach (var step in replay.Steps)
            sb.Append(step.Index).Append(' ')
              .Append(step.Expected is null ? "-" : ScenarioPrinter.FormatOutcome(step.Expected))
              .Append(' ').Append(string.Join("; ", step.Violations))
              .Append(' ').AppendLine(step.Mismatch?.ToString());

        if (!scenario.TryBuildPlatform(out var platform, out string error))
            return sb.Append("platform: ").AppendLine(error).ToString();
        var refinement = RefinementSession.Run(platform, scenario.Steps.Select(s => s.Op), platform => new OptimizedSystem(platform));
        sb.Append("refinement: ").AppendLine(refinement.Finding?.ToString() ?? "passed");
        foreach (var step in refinement.Steps)
            sb.AppendLine(step.Expected is null ? "-" : ScenarioPrinter.FormatOutcome(step.Expected));
        return sb.ToString();
    }
}
