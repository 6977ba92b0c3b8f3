using DmaVerify.Cli.Composition;
using DmaVerify.Contracts;
using DmaVerify.Cli.Text;
using DmaVerify.Fuzz.Engine;
using DmaVerify.Fuzz.Targets;
using DmaVerify.Harness;
using DmaVerify.Model;

namespace DmaVerify.Cli.Verbs;

/// <summary>
/// `verify replay FILE --target T` for fuzz inputs (crash-, timeout- and corpus files): decodes
/// the bytes as the target does, prints the op list in the scenario text form, runs it on the
/// model and the implementation side by side and shows where they part. With
/// --save-regression the ops (up to the finding) become a .scn file whose expected outcomes are
/// the model's, so the corpus tests replay it from then on.
/// </summary>
internal static class FuzzInputReplay
{
    /// <summary>Which target a fuzz input belongs to when --target is not given: the folder it
    /// sits in, when that folder is named after a target (corpus/x86-vtd/…).</summary>
    public static string? GuessTarget(string path)
    {
        string? folder = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(path)));
        return folder is not null && FuzzTargets.Names.Contains(folder, StringComparer.Ordinal) ? folder : null;
    }

    /// <summary>The decoder reads at most 4 + 4096 × 16 bytes; a file far larger is a mistake.</summary>
    private const long FuzzInputMaxBytes = 16L << 20;

    public static int Run(string path, string target, string implementation, string? regressionDir, TextWriter output, TextWriter error, IScenarioText text,
        ImplementationRegistry? registry = null)
    {
        byte[] data;
        try
        {
            if (Directory.Exists(path)) throw new IOException("is a folder", 21);
            if (new FileInfo(path) is { Exists: true, Length: > FuzzInputMaxBytes } big)
            {
                error.WriteLine($"{path}: error: too large for a fuzz input ({big.Length} bytes; at most {FuzzInputMaxBytes >> 20} MiB)");
                return ExitCodes.BadInput;
            }
            data = File.ReadAllBytes(path);
        }
        catch (Exception e) when (FileErrors.IsFileError(e) || e is ArgumentException)
        {
            string why = e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : $"cannot read: {FileErrors.Describe(e)}";
            error.WriteLine($"{ScenarioLoader.Shown(path)}: error: {why}");
            return ExitCodes.BadInput;
        }
        if (!FuzzTargets.TryCreate(target, registry ?? Implementations.Knowing(implementation), new ScenarioTargetOptions { Implementation = implementation }, out var fuzzTarget, out string problem))
        {
            error.WriteLine(FuzzTargets.Names.Contains(target, StringComparer.Ordinal) ? $"verify replay: --impl: {problem}" : $"verify replay: --target: {problem}");
            return ExitCodes.BadInput;
        }
        return Run(path, data, fuzzTarget, implementation, regressionDir, output, text);
    }

    /// <summary>Replays <paramref name="data"/> on a given target (tests pass one over a
    /// bug-planted implementation).</summary>
    internal static int Run(string path, byte[] data, ScenarioTarget fuzzTarget, string implementation, string? regressionDir, TextWriter output, IScenarioText text)
    {
        string target = fuzzTarget.Name;
        var decoded = fuzzTarget.Decode(data);
        var scenario = decoded.ToScenario();
        string sha1 = AtomicFile.Sha1Hex(data);
        byte version = Fuzz.Decoding.FuzzFormat.VersionOf(data);
        output.WriteLine($"replay {path}: fuzz input of target {target} ({data.Length} bytes, format version {version}, sha1 {sha1}): preset {decoded.Preset}, " +
                         $"{ReplayVerb.Plural(decoded.Ops.Count, "op")}, model vs {implementation}");
        if (!Fuzz.Decoding.FuzzFormat.IsKnown(version))
            output.WriteLine($"note: format version {version} is newer than this DmaVerify knows ({Fuzz.Decoding.FuzzFormat.Current}); decoded with version {Fuzz.Decoding.FuzzFormat.Current}'s tables, which may not be what it meant");
        output.WriteLine("scenario:");
        foreach (string line in text.Print(scenario).TrimEnd().Split('\n'))
            output.WriteLine("  " + line);

        var session = fuzzTarget.Execute(decoded);
        foreach (var (step, index) in session.Steps.Select((s, i) => (s, i)))
        {
            output.WriteLine($"step {index}: {text.FormatOp(step.Op)}");
            if (step.Expected is { } outcome) output.WriteLine($"  => {implementation}: {text.FormatOutcome(outcome)}");
        }
        var finding = session.Finding;
        if (finding is null)
        {
            output.WriteLine($"result: PASSED (model and {implementation} agree on all {ReplayVerb.Plural(decoded.Ops.Count, "op")}; no invariant violation)");
            return ExitCodes.Ok;
        }
        output.WriteLine($"model and {implementation} part at step {finding.Step}: {finding.Kind} {finding.Invariant}");
        output.WriteLine($"  {finding.Message}");
        if (regressionDir is not null)
            output.WriteLine($"regression written to {SaveRegression(regressionDir, target, sha1, finding, decoded, session, text)}");
        output.WriteLine($"result: FAILED ({finding.Kind} {finding.Invariant} at step {finding.Step} of {decoded.Ops.Count})");
        return finding.Kind == FindingKind.ToolCrash ? ExitCodes.Crashed : ExitCodes.Failed;
    }

    private static string SaveRegression(string dir, string target, string sha1, Finding finding, Fuzz.Decoding.DecodedScenario decoded,
        RefinementSession session, IScenarioText text)
    {
        // The ops up to the finding, with the outcomes the model gives them (the specification).
        var ops = session.Steps.Select(s => s.Op).ToList();
        var modelRun = ScenarioRunner.Run(new Scenario(decoded.Preset, decoded.Overrides, ops.Select(o => new ScenarioStep(o)).ToValueList()));
        var steps = ops.Select((op, i) => new ScenarioStep(op, i < modelRun.Steps.Count ? modelRun.Steps[i].Outcome : null)).ToValueList();
        var regression = new Scenario(decoded.Preset, decoded.Overrides, steps);
        string header = $"# fuzz regression: target {target}, input {sha1}\n# found: step {finding.Step}: {finding.Kind} {finding.Invariant}: {finding.Message.ReplaceLineEndings(" ")}\n";
        string file = Path.Combine(dir, $"{target}-{sha1[..12]}.scn");
        Directory.CreateDirectory(dir);
        AtomicFile.Write(file, System.Text.Encoding.UTF8.GetBytes(header + text.Print(regression)));
        return file;
    }
}
