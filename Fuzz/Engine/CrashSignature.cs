using DmaVerify.Fuzz.Targets;

namespace DmaVerify.Fuzz.Engine;

/// <summary>What "the same crash" means when minimising: the finding's kind and invariant for an
/// oracle verdict, the exception type and throwing method for anything else. Works across load
/// contexts (a target loaded with instrumented dependencies throws its own FuzzFinding type).</summary>
public static class CrashSignature
{
    public static string Of(Exception e)
    {
        if (e is FuzzFinding finding) return finding.Signature;
        if (e.GetType().FullName == typeof(FuzzFinding).FullName && e.GetType().GetProperty(nameof(FuzzFinding.Signature))?.GetValue(e) is string s)
            return s;
        string site = e.TargetSite is { } m ? $"{m.DeclaringType?.FullName}.{m.Name}" : "?";
        return $"{e.GetType().FullName}@{site}";
    }
}
