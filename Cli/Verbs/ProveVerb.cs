using System.Globalization;
using DmaVerify.Cli.Files;
using DmaVerify.Proofs;
using DmaVerify.Proofs.Running;
using DmaVerify.Proofs.Z3;

namespace DmaVerify.Cli.Verbs;

/// <summary>`verify prove`: prove the obligations on the lifted kernels; a line per obligation,
/// and for a refutation the counterexample, what the kernels return on it, and a generated test.</summary>
internal static class ProveVerb
{
    public static int Run(string? filter, bool extended, string? smt2Directory, string testsDirectory, TextWriter output, TextWriter error)
    {
        IReadOnlyList<Obligation> catalog = extended ? [.. ObligationCatalog.All, .. ObligationCatalog.Extended] : ObligationCatalog.All;
        if (filter is not null && string.IsNullOrWhiteSpace(filter))
        {
            error.WriteLine("verify prove: --filter is empty; give obligation ids or prefixes (PO-40, PO-4), or leave --filter out to prove all");
            return ExitCodes.BadInput;
        }
        var unmatched = Unmatched(filter, catalog);
        if (unmatched.Count > 0)
        {
            error.WriteLine($"verify prove: --filter: no obligation matches {string.Join(", ", unmatched.Select(p => $"'{p}'"))}; known: {string.Join(", ", catalog.Select(o => o.Id))}");
            return ExitCodes.BadInput;
        }
        var selected = Select(filter, catalog);
        if (selected.Count == 0)
        {
            error.WriteLine($"verify prove: no obligation matches '{filter}'; known: {string.Join(", ", catalog.Select(o => o.Id))}");
            return ExitCodes.BadInput;
        }
        // Output folders are checked before any proof runs; neither is made until it is needed.
        if (smt2Directory is not null && OutputPaths.WhyNotWritableFolder(smt2Directory) is string badSmt2)
        {
            error.WriteLine($"verify prove: --smt2 {smt2Directory}: {badSmt2}; nothing was run");
            return ExitCodes.BadInput;
        }
        if (OutputPaths.WhyNotWritableFolder(testsDirectory) is string badTests)
        {
            error.WriteLine($"verify prove: --tests {testsDirectory}: {badTests}; nothing was run");
            return ExitCodes.BadInput;
        }
        try { output.WriteLine($"Z3 {Z3Context.Version}; {selected.Count} obligation(s)"); }
        catch (Z3UnavailableException e)
        {
            error.WriteLine($"{ExitCodes.FailurePrefix}{e.Message}");
            return ExitCodes.Crashed;
        }

        int refuted = 0, undecided = 0, crashed = 0;
        var total = TimeSpan.Zero;
        foreach (var obligation in selected)
        {
            ProofOutcome outcome;
            try { outcome = Prover.Prove(obligation, KernelSet.Default, smt2Directory); }
            catch (Exception e) when (e is InvalidOperationException or Z3Exception or ArgumentException or KeyNotFoundException)
            {
                output.WriteLine($"{obligation.Id,-6} CRASHED  {e.GetType().Name}: {e.Message} -- a bug in DmaVerify");
                crashed++;
                continue;
            }
            total += outcome.Elapsed;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{obligation.Id,-6} {Status(outcome.Status),-13} {outcome.Elapsed.TotalSeconds,6:0.00} s  rlimit {outcome.ResourceUsed,11}  {obligation.Invariant}  {obligation.Title}"));
            if (outcome.Status == ProofStatus.Proved) continue;
            if (outcome.Status == ProofStatus.Refuted) refuted++;
            else undecided++;
            if (outcome.Message is not null) output.WriteLine($"         {outcome.Message}");
            if (outcome.Counterexample is { } cex)
            {
                output.WriteLine("         counterexample: " + string.Join(", ", cex.Select(p => $"{p.Key} = 0x{p.Value:X}")));
                foreach (var call in outcome.Execution!.Calls) output.WriteLine($"         executed: {call}");
                Directory.CreateDirectory(testsDirectory);
                string path = Path.Combine(testsDirectory, CounterexampleTest.ClassName(obligation) + ".cs");
                File.WriteAllText(path, CounterexampleTest.Generate(outcome, KernelSet.Default));
                output.WriteLine($"         test: {path}");
            }
        }
        string smt2 = smt2Directory is null ? "" : $"; SMT-LIB2 in {smt2Directory}";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{selected.Count - refuted - undecided - crashed} of {selected.Count} proved in {total.TotalSeconds:0.00} s{smt2}"));
        // A refutation is a finding even when another obligation could not be decided.
        if (refuted > 0) return ExitCodes.Failed;
        if (undecided + crashed == 0) return ExitCodes.Ok;
        error.WriteLine($"{ExitCodes.FailurePrefix}{undecided + crashed} obligation(s) not decided (unknown, not liftable or crashed; see above)");
        return ExitCodes.Crashed;
    }

    private static string Status(ProofStatus s) => s switch
    {
        ProofStatus.Proved => "proved",
        ProofStatus.Refuted => "REFUTED",
        ProofStatus.Unknown => "UNKNOWN",
        ProofStatus.NotLiftable => "NOT-LIFTABLE",
        _ => "LIFTER-BUG",
    };

    /// <summary>The parts of the filter that select nothing (each part must select something).</summary>
    private static List<string> Unmatched(string? filter, IReadOnlyList<Obligation> catalog) =>
        string.IsNullOrWhiteSpace(filter) ? []
            : [.. filter.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Where(p => !catalog.Any(o => o.Id.StartsWith(p, StringComparison.OrdinalIgnoreCase)))];

    /// <summary>Comma-separated ids or id prefixes ("PO-4" selects PO-40..PO-43); none = all.</summary>
    private static List<Obligation> Select(string? filter, IReadOnlyList<Obligation> catalog)
    {
        if (string.IsNullOrWhiteSpace(filter)) return [.. catalog];
        var parts = filter.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return catalog.Where(o => parts.Any(p => o.Id.StartsWith(p, StringComparison.OrdinalIgnoreCase))).ToList();
    }
}
