using System.Reflection;
using System.Runtime.Loader;
using DmaVerify.Optimized.Iova;

namespace DmaVerify.Native.Loading;

/// <summary>
/// A .NET allocator named <c>PATH.dll:Namespace.Type</c>: a public, concrete type implementing
/// <see cref="IIovaAllocator"/> with a public constructor <c>(ulong startPfn, int granuleShift)</c>.
/// The assembly is loaded into a load context of its own whose DmaVerify assemblies are those
/// of the caller (so its <see cref="IIovaAllocator"/> is the one the DMA layer speaks, also
/// beside instrumented copies) and whose other dependencies come from the assembly's folder.
/// </summary>
public sealed class ManagedAllocatorType : IAllocatorSource
{
    private readonly ConstructorInfo _constructor;

    private ManagedAllocatorType(Type type, ConstructorInfo constructor)
    {
        Type = type;
        _constructor = constructor;
    }

    public Type Type { get; }

    public AllocatorCapabilities Capabilities { get; } = new(KeepsCaches: true, ReportsRanges: true, CoverageEdges: 0, CallStyle.Managed);

    public uint ReachedEdges => 0;

    /// <summary>Loads and checks the type; throws <see cref="AllocatorLoadException"/> with one
    /// line naming the problem.</summary>
    public static ManagedAllocatorType Load(string path, string typeName)
    {
        var interfaceType = typeof(IIovaAllocator);
        var host = AssemblyLoadContext.GetLoadContext(interfaceType.Assembly) ?? AssemblyLoadContext.Default;
        Assembly assembly;
        try
        {
            assembly = new PluginContext(path, host).LoadFromAssemblyPath(path);
        }
        catch (Exception e) when (e is BadImageFormatException or FileLoadException or FileNotFoundException)
        {
            throw new AllocatorLoadException($"{path}: not a loadable .NET assembly ({e.Message.ReplaceLineEndings(" ")})");
        }
        Type? type;
        try
        {
            type = assembly.GetType(typeName, throwOnError: false);
        }
        catch (Exception e) when (e is FileLoadException or FileNotFoundException or BadImageFormatException or TypeLoadException)
        {
            throw new AllocatorLoadException($"{path}: type {typeName} cannot be loaded ({e.Message.ReplaceLineEndings(" ")})");
        }
        if (type is null)
        {
            var candidates = Exported(assembly).Where(t => interfaceType.IsAssignableFrom(t)).Select(t => t.FullName).ToList();
            throw new AllocatorLoadException($"{path}: no public type {typeName}" +
                (candidates.Count > 0 ? $" (allocators there: {string.Join(", ", candidates)})" : " (it holds no public IIovaAllocator)"));
        }
        if (!interfaceType.IsAssignableFrom(type))
            throw new AllocatorLoadException($"{path}: {typeName} does not implement {interfaceType.FullName}");
        if (type.IsAbstract || !type.IsPublic && !type.IsNestedPublic)
            throw new AllocatorLoadException($"{path}: {typeName} must be a public, non-abstract class");
        var constructor = type.GetConstructor([typeof(ulong), typeof(int)])
            ?? throw new AllocatorLoadException($"{path}: {typeName} needs a public constructor ({nameof(UInt64)} startPfn, {nameof(Int32)} granuleShift)");
        return new ManagedAllocatorType(type, constructor);
    }

    private static IEnumerable<Type> Exported(Assembly assembly)
    {
        try { return assembly.GetExportedTypes(); }
        catch (Exception e) when (e is ReflectionTypeLoadException or FileNotFoundException or FileLoadException) { return []; }
    }

    public IIovaAllocator Create(ulong startPfn, int granuleShift)
    {
        try
        {
            return (IIovaAllocator)_constructor.Invoke([startPfn, granuleShift]);
        }
        catch (TargetInvocationException e) when (e.InnerException is { } inner)
        {
            throw new AllocatorRefusedException($"new {Type.FullName}(startPfn: 0x{startPfn:X}, granuleShift: {granuleShift}) threw {inner.GetType().Name}: {inner.Message}");
        }
    }

    public void Destroy(IIovaAllocator allocator)
    {
        if (allocator is IDisposable disposable) disposable.Dispose();
    }

    /// <summary>The plug-in's own context: DmaVerify assemblies from the caller's context, the
    /// rest from the plug-in's folder (its .deps.json when there is one), else the default.</summary>
    private sealed class PluginContext(string path, AssemblyLoadContext host) : AssemblyLoadContext($"DmaVerify allocator {Path.GetFileName(path)}")
    {
        private readonly AssemblyDependencyResolver _resolver = new(path);

        protected override Assembly? Load(AssemblyName name)
        {
            if (name.Name is { } simple && simple.StartsWith("DmaVerify.", StringComparison.Ordinal))
                return host.LoadFromAssemblyName(name);
            return _resolver.ResolveAssemblyToPath(name) is { } resolved ? LoadFromAssemblyPath(resolved) : null;
        }
    }
}
