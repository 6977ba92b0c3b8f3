namespace DmaVerify.Cli;

/// <summary>Exit codes of every verb (diff's convention, plus one for a bug in the tool).</summary>
public static class ExitCodes
{
    /// <summary>Everything ran; no invariant violation, no expected-outcome mismatch.</summary>
    public const int Ok = 0;
    /// <summary>Everything ran, and something is wrong: a violation or a mismatch.</summary>
    public const int Failed = 1;
    /// <summary>Bad input: a file that cannot be read or parsed, an unusable scenario, bad
    /// command-line usage.</summary>
    public const int BadInput = 2;
    /// <summary>The tool itself broke: the model, the checker or the parser threw.</summary>
    public const int Crashed = 3;
}
