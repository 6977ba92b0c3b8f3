using System.Reflection;
using System.Runtime.Loader;

namespace DmaVerify.Fuzz.Instrumentation;

/// <summary>
/// Loads the assemblies it was given (instrumented copies, and any plain ones that must bind to
/// them) from their paths; every other assembly, the fuzz runtime included, comes from the
/// default context. So instrumented code and the runner share one <c>CoverageMap</c>, and an
/// instrumented Optimized binds to the instrumented Model, not the original.
/// </summary>
public sealed class InstrumentedLoadContext : AssemblyLoadContext
{
    private readonly IReadOnlyDictionary<string, string> _paths;

    internal InstrumentedLoadContext(IReadOnlyDictionary<string, string> pathsBySimpleName, bool collectible)
        : base("DmaVerify instrumented", collectible)
    {
        _paths = pathsBySimpleName;
    }

    /// <summary>Simple name to the file this context loads it from.</summary>
    public IReadOnlyDictionary<string, string> Paths => _paths;

    protected override Assembly? Load(AssemblyName assemblyName) =>
        assemblyName.Name is { } name && _paths.TryGetValue(name, out var path) ? LoadFromAssemblyPath(path) : null;
}
