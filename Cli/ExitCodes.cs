namespace DmaVerify.Cli;

/// <summary>
/// The exit codes of every verb: one table, printed by every verb's --help and in the README.
/// A verdict must be true, so a tool error is never 0 or 1: bad input found before the work
/// starts is 2, and anything that stops the tool during the work is 3.
/// </summary>
public static class ExitCodes
{
    /// <summary>Everything ran to the end and nothing failed.</summary>
    public const int Ok = 0;
    /// <summary>A finding: an invariant violation, an expected-outcome mismatch, model and
    /// implementation parting, a fuzz crash or timeout, a refuted obligation.</summary>
    public const int Failed = 1;
    /// <summary>Bad input, refused before any work: a file that cannot be read or parsed, an
    /// unusable output path, a bad option value, an unusable scenario.</summary>
    public const int BadInput = 2;
    /// <summary>DmaVerify failed during the work: an I/O error, a missing library or program,
    /// an undecided proof, or a crash of the model, checker or parser (a bug in DmaVerify).</summary>
    public const int Crashed = 3;

    /// <summary>How a tool failure starts its one line, so scripts and people can tell it from
    /// a finding.</summary>
    public const string FailurePrefix = "DmaVerify failed: ";

    /// <summary>The table, as every verb's --help ends.</summary>
    public static readonly string[] Table =
    [
        "Exit codes (the same for every verb):",
        "  0      everything ran to the end and nothing failed (check: skipped items allowed)",
        "  1      a finding: an invariant violation, an expected-outcome mismatch, model and",
        "         implementation parting, a fuzz crash- or timeout- file, a refuted obligation",
        "  2      bad input, refused before any work: a missing, unreadable or malformed file, an",
        "         unusable output path, a bad option value; one line names it and the reason",
        "  3      DmaVerify failed during the work: an I/O error (disk full, a folder removed), a",
        "         missing library or program, an undecided proof, or a crash of the model,",
        "         checker or parser (a bug in DmaVerify); one line starting \"DmaVerify failed:\"",
        "  128+N  stopped by signal N (130: Ctrl-C); `fuzz -jobs` stops its workers first",
        "  A run with a finding and a failure elsewhere exits 1: the finding is the news.",
    ];
}
