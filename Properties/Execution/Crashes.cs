using DmaVerify.Contracts;
using DmaVerify.Harness;

namespace DmaVerify.Properties;

/// <summary>A thrown exception as a finding (the same shape RefinementSession reports).</summary>
internal static class Crashes
{
    public static Finding Of(FindingKind kind, int step, string component, Exception e) =>
        new(kind, step, "CRASH", $"{component} threw {e.GetType().Name}: {e.Message}");
}
