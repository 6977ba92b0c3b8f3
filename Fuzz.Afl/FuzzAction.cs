namespace DmaVerify.Fuzz.Afl;

/// <summary>
/// One execution of a fuzz target on one input. Returning normally means "no finding"; any
/// exception is a finding (a crash, in AFL's terms). This is the seam between the AFL++
/// adapter and whatever provides targets.
/// </summary>
public delegate void FuzzAction(ReadOnlySpan<byte> input);
