using Mono.Cecil;

namespace DmaVerify.Fuzz.Instrumentation;

/// <summary>
/// The type the instrumenter adds to every module it rewrites. Its presence is how a second run
/// recognises an instrumented module and leaves it alone (idempotence), and how tools tell an
/// instrumented copy from the original.
/// </summary>
public static class InstrumentationMarker
{
    /// <summary>Full name of the marker type (global namespace; the angle brackets keep it out
    /// of any language's reach, as compiler-generated names do).</summary>
    public const string TypeName = "<DmaVerifyInstrumented>";

    public static bool IsPresent(ModuleDefinition module) =>
        module.Types.Any(t => t.Namespace.Length == 0 && t.Name == TypeName);

    /// <summary>True when the loaded assembly is an instrumented copy.</summary>
    public static bool IsPresent(System.Reflection.Assembly assembly) =>
        assembly.GetType(TypeName, throwOnError: false) is not null;

    internal static void Add(ModuleDefinition module)
    {
        var marker = new TypeDefinition(
            "", TypeName,
            TypeAttributes.NotPublic | TypeAttributes.Abstract | TypeAttributes.Sealed | TypeAttributes.BeforeFieldInit,
            module.TypeSystem.Object);
        module.Types.Add(marker);
    }
}
