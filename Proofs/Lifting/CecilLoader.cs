using System.Reflection;
using Mono.Cecil;

namespace DmaVerify.Proofs.Lifting;

/// <summary>Finds the Cecil definition (with IL) of a reflected method; one module read per assembly file.</summary>
internal sealed class CecilLoader : IDisposable
{
    private readonly Dictionary<string, ModuleDefinition> _modules = [];
    private readonly DefaultAssemblyResolver _resolver = new();

    public MethodDefinition Definition(MethodInfo method)
    {
        string location = method.Module.Assembly.Location;
        if (string.IsNullOrEmpty(location))
            throw new LiftRefusedException(Describe(method), 0, "-", "its assembly has no file to read IL from");
        if (!_modules.TryGetValue(location, out var module))
        {
            _resolver.AddSearchDirectory(Path.GetDirectoryName(location)!);
            module = ModuleDefinition.ReadModule(location, new ReaderParameters { AssemblyResolver = _resolver });
            _modules[location] = module;
        }
        return module.LookupToken(method.MetadataToken) as MethodDefinition
               ?? throw new LiftRefusedException(Describe(method), 0, "-", "no method definition for its metadata token");
    }

    public static string Describe(MethodInfo m) => $"{m.DeclaringType?.FullName}.{m.Name}";

    public void Dispose()
    {
        foreach (var module in _modules.Values) module.Dispose();
        _modules.Clear();
        _resolver.Dispose();
    }
}
