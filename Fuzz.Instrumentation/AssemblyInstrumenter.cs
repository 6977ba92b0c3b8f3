using DmaVerify.FuzzRuntime;
using Mono.Cecil;

namespace DmaVerify.Fuzz.Instrumentation;

/// <summary>
/// Rewrites an IL-only assembly so every basic block records AFL edge coverage in
/// <see cref="CoverageMap"/> (see <see cref="MethodInstrumenter"/>). Refuses mixed-mode
/// assemblies and the runtime assembly itself; leaves already-instrumented ones unchanged.
/// Strong-name signatures cannot survive rewriting: the signed flag is cleared and the public
/// key kept, so the identity (and every reference to it) stays the same; .NET (Core) does not
/// check strong-name signatures when loading.
/// </summary>
public static class AssemblyInstrumenter
{
    /// <summary>Changes whenever the instrumenter's code changes (deterministic builds), so
    /// caches keyed on it never serve a copy made by an older instrumenter.</summary>
    public static Guid Version { get; } = typeof(AssemblyInstrumenter).Assembly.ManifestModule.ModuleVersionId;

    /// <summary>Instruments <paramref name="inputPath"/> into <paramref name="outputPath"/>
    /// (the same path rewrites it in place). Never throws for a bad input: a refusal is a result.</summary>
    /// <param name="compareHooks">Also hook every 64-bit integer comparison (the fuzzer's
    /// -use_value_profile=1; <see cref="CompareHooks"/>).</param>
    public static InstrumentationResult Instrument(string inputPath, string outputPath, bool compareHooks = false) =>
        Instrument(inputPath, outputPath, InstrumenterFaults.None, compareHooks);

    internal static InstrumentationResult Instrument(string inputPath, string outputPath, InstrumenterFaults faults, bool compareHooks = false)
    {
        if (Directory.Exists(inputPath))
            return Refuse(inputPath, outputPath, "a folder, not an assembly");
        if (!File.Exists(inputPath))
            return Refuse(inputPath, outputPath, "no such file");

        ModuleDefinition module;
        var resolver = new DefaultAssemblyResolver();
        try
        {
            resolver.AddSearchDirectory(Path.GetDirectoryName(Path.GetFullPath(inputPath))!);
            resolver.AddSearchDirectory(AppContext.BaseDirectory);
            module = ModuleDefinition.ReadModule(inputPath, new ReaderParameters
            {
                ReadingMode = ReadingMode.Immediate,
                InMemory = true, // the output may overwrite the input
                AssemblyResolver = resolver,
                ReadSymbols = HasPortablePdb(inputPath),
                ThrowIfSymbolsAreNotMatching = false,
            });
        }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            resolver.Dispose();
            return Refuse(inputPath, outputPath, e switch
            {
                FileNotFoundException or DirectoryNotFoundException => "no such file",
                UnauthorizedAccessException => "not a readable .NET assembly (permission denied)",
                BadImageFormatException => "not a readable .NET assembly (not a PE file with .NET metadata)",
                _ => $"not a readable .NET assembly ({e.Message.TrimEnd('.')})",
            });
        }

        using (resolver)
        using (module)
        {
            if (module.Assembly is null)
                return Refuse(inputPath, outputPath, "a netmodule, not an assembly; instrument the assembly that contains it");
            if ((module.Attributes & ModuleAttributes.ILOnly) == 0)
                return Refuse(inputPath, outputPath,
                    "a mixed-mode assembly (native code beside IL; the CLI header's ILOnly flag is clear): " +
                    "its native code cannot be rewritten, so it is not instrumented; instrument the IL-only assemblies that call it");
            if (module.Assembly.Name.Name == typeof(CoverageMap).Assembly.GetName().Name)
                return Refuse(inputPath, outputPath, "the fuzz runtime itself; its coverage map must stay uninstrumented");

            if (InstrumentationMarker.IsPresent(module))
            {
                if (!SamePath(inputPath, outputPath)) CopyAlongsideSymbols(inputPath, outputPath);
                return new InstrumentationResult(InstrumentationStatus.AlreadyInstrumented, inputPath, outputPath, "already instrumented");
            }

            var (methods, probes, hooks) = Rewrite(module, faults, compareHooks);
            InstrumentationMarker.Add(module);
            module.Attributes &= ~ModuleAttributes.StrongNameSigned;

            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outputPath))!);
                module.Write(outputPath, new WriterParameters
                {
                    DeterministicMvid = true, // same input, same output bytes
                    // Embedded, so the copy is one file whose bytes do not depend on where it is written.
                    WriteSymbols = module.HasSymbols,
                    SymbolWriterProvider = module.HasSymbols ? new Mono.Cecil.Cil.EmbeddedPortablePdbWriterProvider() : null,
                });
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Refuse(inputPath, outputPath, $"cannot write {outputPath}: {e.Message}");
            }
            return new InstrumentationResult(InstrumentationStatus.Instrumented, inputPath, outputPath, "instrumented", methods, probes) { CompareHooks = hooks };
        }
    }

    private static (int Methods, int Probes, int Hooks) Rewrite(ModuleDefinition module, InstrumenterFaults faults, bool compareHooks)
    {
        var map = module.ImportReference(typeof(CoverageMap).GetField(nameof(CoverageMap.Map))!);
        var previous = module.ImportReference(typeof(CoverageMap).GetField(nameof(CoverageMap.PreviousLocation))!);
        var ids = EdgeIds.For(module.Assembly.Name.Name, module.Name);
        var hooks = compareHooks
            ? new CompareHooks(module.ImportReference(typeof(CmpTrace).GetMethod(nameof(CmpTrace.Compare64))!), EdgeIds.For(module.Assembly.Name.Name, module.Name + "\0cmp"))
            : null;
        var method = new MethodInstrumenter(map, previous, ids, faults, hooks);

        int methods = 0, probes = 0, hooked = 0;
        foreach (var type in module.GetTypes())
            foreach (var m in type.Methods)
            {
                int n = method.Instrument(m);
                hooked += method.LastHooks;
                if (n == 0) continue;
                methods++;
                probes += n;
            }
        return (methods, probes, hooked);
    }

    private static InstrumentationResult Refuse(string input, string output, string why) =>
        new(InstrumentationStatus.Refused, input, output, why);

    private static bool HasPortablePdb(string assemblyPath) => File.Exists(Path.ChangeExtension(assemblyPath, ".pdb"));

    private static bool SamePath(string a, string b) =>
        string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), StringComparison.Ordinal);

    private static void CopyAlongsideSymbols(string input, string output)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        File.Copy(input, output, overwrite: true);
        string pdb = Path.ChangeExtension(input, ".pdb");
        if (File.Exists(pdb)) File.Copy(pdb, Path.ChangeExtension(output, ".pdb"), overwrite: true);
    }
}
