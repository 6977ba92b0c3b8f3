using DmaVerify.Fuzz.Instrumentation;
using DmaVerify.FuzzRuntime;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace DmaVerify.Tests.FuzzInstrumentation;

/// <summary>Instrumented files made once for <see cref="InstrumenterTests"/>: Model twice (in two
/// folders) and Optimized once.</summary>
public sealed class InstrumentedFiles : IDisposable
{
    private readonly string _dir = NewTempDir("instrumented-files");

    public InstrumentedFiles()
    {
        ModelA = Instrument("DmaVerify.Model", Path.Combine(_dir, "a"));
        ModelB = Instrument("DmaVerify.Model", Path.Combine(_dir, "b"));
        Optimized = Instrument("DmaVerify.Optimized", Path.Combine(_dir, "o"));
    }

    public string ModelA { get; }
    public string ModelB { get; }
    public string Optimized { get; }

    public void Dispose() => DeleteDir(_dir);

    public static string Original(string name) => Path.Combine(AppContext.BaseDirectory, name + ".dll");

    public static string Instrument(string name, string folder)
    {
        string output = Path.Combine(folder, name + ".dll");
        var result = AssemblyInstrumenter.Instrument(Original(name), output);
        Assert.True(result.Status == InstrumentationStatus.Instrumented, result.ToString());
        Assert.True(result.Probes > result.Methods, result.ToString());
        return output;
    }

    public static string NewTempDir(string what)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"dmaverify-{what}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static void DeleteDir(string dir)
    {
        try { Directory.Delete(dir, recursive: true); }
        catch (IOException) { /* the OS cleans temp */ }
    }
}

/// <summary>The instrumenter's contract: stable, per-assembly ids; deterministic output;
/// idempotence; clear refusals; probes at every block start.</summary>
public sealed class InstrumenterTests(InstrumentedFiles files) : IClassFixture<InstrumentedFiles>, IDisposable
{
    private readonly string _dir = InstrumentedFiles.NewTempDir("instrumenter");

    public void Dispose() => InstrumentedFiles.DeleteDir(_dir);

    private static string Original(string name) => InstrumentedFiles.Original(name);

    private string Instrument(string name, string subdir) => InstrumentedFiles.Instrument(name, Path.Combine(_dir, subdir));

    /// <summary>The (method, id) of every probe, in body order, read back from the IL.</summary>
    private static List<(string Method, int Id)> ProbeIds(string path)
    {
        using var module = ModuleDefinition.ReadModule(path);
        var ids = new List<(string, int)>();
        foreach (var method in module.GetTypes().SelectMany(t => t.Methods).Where(m => m.HasBody))
            foreach (var i in method.Body.Instructions)
                if (i.OpCode == OpCodes.Ldsfld && i.Operand is FieldReference { Name: nameof(CoverageMap.Map) })
                    ids.Add((method.FullName, ProbeId(i.Next)));
        return ids;
    }

    private static int ProbeId(Instruction ldc) => ldc.Operand switch
    {
        int v => v,
        sbyte v => v,
        _ => ldc.OpCode.Code switch
        {
            Code.Ldc_I4_0 => 0, Code.Ldc_I4_1 => 1, Code.Ldc_I4_2 => 2, Code.Ldc_I4_3 => 3, Code.Ldc_I4_4 => 4,
            Code.Ldc_I4_5 => 5, Code.Ldc_I4_6 => 6, Code.Ldc_I4_7 => 7, Code.Ldc_I4_8 => 8, Code.Ldc_I4_M1 => -1,
            _ => throw new InvalidOperationException($"not a probe id: {ldc}"),
        },
    };

    [Fact]
    public void InstrumentingTwiceGivesByteIdenticalOutputAndTheSameIds()
    {
        // Different output folders too: symbols are embedded, so no path ends up in the image.
        string a = files.ModelA;
        string b = files.ModelB;
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        var ids = ProbeIds(a);
        Assert.True(ids.Count > 1000, $"{ids.Count} probes");
        Assert.All(ids, p => Assert.InRange(p.Id, 0, CoverageMap.Size - 1));
    }

    [Fact]
    public void IdsAreAFunctionOfAssemblyTokenAndOffsetAndDifferAcrossAssemblies()
    {
        var model = EdgeIds.For("DmaVerify.Model", "DmaVerify.Model.dll");
        var optimized = EdgeIds.For("DmaVerify.Optimized", "DmaVerify.Optimized.dll");
        Assert.Equal(model.Of(0x06000001, 12), EdgeIds.For("DmaVerify.Model", "DmaVerify.Model.dll").Of(0x06000001, 12));

        // The same (token, offset) sites get unrelated ids in two assemblies: equal about
        // 1 time in 65,536, not systematically (SharpFuzz's per-process id sequence).
        int same = 0, sites = 0;
        for (uint token = 0x06000001; token < 0x06000201; token++)
            for (int offset = 0; offset < 200; offset += 7)
            {
                sites++;
                if (model.Of(token, offset) == optimized.Of(token, offset)) same++;
            }
        Assert.True(same <= 5, $"{same} of {sites} sites share an id");

        // Spread: a few thousand sites of one assembly use most of the distinct values they could.
        var distinct = new HashSet<int>();
        for (uint token = 0x06000001; token < 0x06000101; token++)
            for (int offset = 0; offset < 40; offset += 4) distinct.Add(model.Of(token, offset));
        Assert.True(distinct.Count > 2400, $"2560 sites, {distinct.Count} distinct ids");
    }

    [Fact]
    public void TheIdSequencesOfTwoInstrumentedAssembliesAreUnrelated()
    {
        var model = ProbeIds(files.ModelA).Select(p => p.Id).ToList();
        var optimized = ProbeIds(files.Optimized).Select(p => p.Id).ToList();
        int n = Math.Min(model.Count, optimized.Count);
        int samePosition = Enumerable.Range(0, n).Count(i => model[i] == optimized[i]);
        Assert.True(samePosition <= 3, $"{samePosition} of {n} probes have the same id at the same position");
    }

    [Fact]
    public void InstrumentingAnInstrumentedAssemblyChangesNothing()
    {
        string once = Path.Combine(_dir, "once", "DmaVerify.Optimized.dll");
        Directory.CreateDirectory(Path.GetDirectoryName(once)!);
        File.Copy(files.Optimized, once);
        string twice = Path.Combine(_dir, "twice", "DmaVerify.Optimized.dll");
        var again = AssemblyInstrumenter.Instrument(once, twice);
        Assert.Equal(InstrumentationStatus.AlreadyInstrumented, again.Status);
        Assert.Equal(File.ReadAllBytes(once), File.ReadAllBytes(twice));

        byte[] before = File.ReadAllBytes(once);
        Assert.Equal(InstrumentationStatus.AlreadyInstrumented, AssemblyInstrumenter.Instrument(once, once).Status);
        Assert.Equal(before, File.ReadAllBytes(once));
    }

    [Fact]
    public void AMixedModeAssemblyIsRefusedWithAClearMessage()
    {
        // A mixed-mode assembly is one whose CLI header lacks the ILOnly flag; C++/CLI produces
        // them. Make one by clearing the flag on a copy of an IL-only assembly.
        string mixed = Path.Combine(_dir, "Mixed.dll");
        byte[] image = File.ReadAllBytes(Original("DmaVerify.Fuzz.TestTargets"));
        int flagsOffset;
        using (var pe = new System.Reflection.PortableExecutable.PEReader(new MemoryStream(image)))
            flagsOffset = pe.PEHeaders.CorHeaderStartOffset + 16; // cb, major, minor, metadata directory, then Flags
        Assert.Equal(1, image[flagsOffset] & 1); // COMIMAGE_FLAGS_ILONLY
        image[flagsOffset] &= 0xFE;
        File.WriteAllBytes(mixed, image);

        string output = Path.Combine(_dir, "out", "Mixed.dll");
        var result = AssemblyInstrumenter.Instrument(mixed, output);
        Assert.Equal(InstrumentationStatus.Refused, result.Status);
        Assert.Contains("mixed-mode", result.Message);
        Assert.Contains(mixed, result.ToString());
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void AStrongNamedAssemblyKeepsItsIdentityAndLosesOnlyTheSignedFlag()
    {
        // A strong-named copy of the test targets: a public key in the identity and the
        // "signed" flag in the CLI header (the signature itself cannot survive rewriting).
        string signed = Path.Combine(_dir, "signed", "DmaVerify.Fuzz.TestTargets.dll");
        Directory.CreateDirectory(Path.GetDirectoryName(signed)!);
        byte[] publicKey = StrongNamePublicKey();
        using (var module = ModuleDefinition.ReadModule(Original("DmaVerify.Fuzz.TestTargets"), new ReaderParameters { InMemory = true }))
        {
            module.Assembly.Name.PublicKey = publicKey;
            module.Attributes |= ModuleAttributes.StrongNameSigned;
            module.Write(signed);
        }

        string output = Path.Combine(_dir, "signed-out", "DmaVerify.Fuzz.TestTargets.dll");
        Assert.Equal(InstrumentationStatus.Instrumented, AssemblyInstrumenter.Instrument(signed, output).Status);
        using (var module = ModuleDefinition.ReadModule(output))
        {
            Assert.Equal(publicKey, module.Assembly.Name.PublicKey);
            Assert.Equal(0, (int)(module.Attributes & ModuleAttributes.StrongNameSigned));
        }
        var context = new System.Runtime.Loader.AssemblyLoadContext("strong-named copy", isCollectible: true);
        try
        {
            var loaded = context.LoadFromAssemblyPath(output);
            Assert.Equal(new System.Reflection.AssemblyName(NameOf(signed)).Name, loaded.GetName().Name);
            Assert.NotEmpty(loaded.GetName().GetPublicKeyToken()!);
            Assert.True(InstrumentationMarker.IsPresent(loaded));
        }
        finally
        {
            context.Unload();
        }

        static string NameOf(string path) => System.Reflection.AssemblyName.GetAssemblyName(path).Name!;
    }

    /// <summary>A well-formed strong-name public key blob (RSA-1024, SHA-1), as sn.exe writes it.</summary>
    private static byte[] StrongNamePublicKey()
    {
        using var rsa = System.Security.Cryptography.RSA.Create(1024);
        var key = rsa.ExportParameters(includePrivateParameters: false);
        var blob = new List<byte>();
        blob.AddRange(BitConverter.GetBytes(0x2400)); // signature algorithm: CALG_RSA_SIGN
        blob.AddRange(BitConverter.GetBytes(0x8004)); // hash algorithm: CALG_SHA1
        blob.AddRange(BitConverter.GetBytes(148));    // size of the PUBLICKEYBLOB that follows
        blob.AddRange([0x06, 0x02, 0x00, 0x00]);      // PUBLICKEYBLOB, version 2
        blob.AddRange(BitConverter.GetBytes(0x2400));
        blob.AddRange("RSA1"u8.ToArray());
        blob.AddRange(BitConverter.GetBytes(1024));
        blob.AddRange(BitConverter.GetBytes(65537));
        blob.AddRange(key.Modulus!.Reverse());        // little-endian
        return blob.ToArray();
    }

    [Fact]
    public void NonAssembliesMissingFilesAndTheRuntimeAreRefused()
    {
        string text = Path.Combine(_dir, "notes.dll");
        File.WriteAllText(text, "not a PE file");
        var notPe = AssemblyInstrumenter.Instrument(text, Path.Combine(_dir, "x.dll"));
        Assert.Equal(InstrumentationStatus.Refused, notPe.Status);
        Assert.Contains("not a readable .NET assembly", notPe.Message);

        var missing = AssemblyInstrumenter.Instrument(Path.Combine(_dir, "missing.dll"), Path.Combine(_dir, "y.dll"));
        Assert.Equal(InstrumentationStatus.Refused, missing.Status);
        Assert.Contains("no such file", missing.Message);

        var runtime = AssemblyInstrumenter.Instrument(Original("DmaVerify.FuzzRuntime"), Path.Combine(_dir, "z.dll"));
        Assert.Equal(InstrumentationStatus.Refused, runtime.Status);
        Assert.Contains("fuzz runtime", runtime.Message);
    }

    [Fact]
    public void ProbesSitAtEntryBranchTargetsFallThroughsAndHandlerStarts()
    {
        string path = Instrument("DmaVerify.Fuzz.TestTargets", "shapes");
        Assert.Empty(ProbePlacementProblems(path));
        using var module = ModuleDefinition.ReadModule(path);
        Assert.Contains(module.GetTypes().SelectMany(t => t.Methods), m => m.HasBody && m.Body.ExceptionHandlers.Any(h => h.HandlerType == ExceptionHandlerType.Filter));
    }

    [Fact]
    public void PlantedInstrumenterDefectsAreCaught()
    {
        // Branches that jump over their probes: the placement check sees them.
        string skipping = Path.Combine(_dir, "keep-branches", "DmaVerify.Fuzz.TestTargets.dll");
        Assert.True(AssemblyInstrumenter.Instrument(Original("DmaVerify.Fuzz.TestTargets"), skipping, InstrumenterFaults.KeepBranchTargets).Succeeded);
        Assert.Contains(ProbePlacementProblems(skipping), p => p.Contains("targets a non-probe"));

        // Handler boundaries left behind: the probes before handler starts end up inside the
        // try blocks, and the copy no longer behaves like the original (or does not compile).
        string broken = Path.Combine(_dir, "keep-handlers", "DmaVerify.Fuzz.TestTargets.dll");
        Assert.True(AssemblyInstrumenter.Instrument(Original("DmaVerify.Fuzz.TestTargets"), broken, InstrumenterFaults.KeepHandlerBoundaries).Succeeded);
        var context = new InstrumentedLoadContext(new Dictionary<string, string> { ["DmaVerify.Fuzz.TestTargets"] = broken }, collectible: true);
        try
        {
            var digest = context.LoadFromAssemblyPath(broken).GetType("DmaVerify.Fuzz.TestTargets.IlShapes", throwOnError: true)!
                .GetMethod("Digest")!.CreateDelegate<Func<int, string>>();
            int differing = 0;
            for (int x = -10; x < 40; x++)
            {
                try
                {
                    if (digest(x) != Fuzz.TestTargets.IlShapes.Digest(x)) differing++;
                }
                catch (Exception e) when (e is InvalidProgramException or InvalidOperationException or NullReferenceException or System.Reflection.TargetInvocationException or AccessViolationException or ArgumentException)
                {
                    differing++;
                }
            }
            Assert.True(differing > 0, "the planted handler defect went unnoticed");
        }
        finally
        {
            context.Unload();
        }
    }

    /// <summary>Every place a probe should be and is not, in every method of the assembly.</summary>
    private static List<string> ProbePlacementProblems(string path)
    {
        using var module = ModuleDefinition.ReadModule(path);
        static bool IsProbeStart(Instruction i) =>
            i.OpCode == OpCodes.Ldsfld && i.Operand is FieldReference { Name: nameof(CoverageMap.Map) };

        var problems = new List<string>();
        foreach (var method in module.GetTypes().SelectMany(t => t.Methods).Where(m => m.HasBody))
        {
            var body = method.Body;
            if (!IsProbeStart(body.Instructions[0])) problems.Add($"{method.FullName}: no probe at entry");
            foreach (var i in body.Instructions)
            {
                if (IsProbeStart(i)) continue;
                var targets = i.Operand switch { Instruction t => [t], Instruction[] ts => ts, _ => Array.Empty<Instruction>() };
                foreach (var t in targets)
                    if (!IsProbeStart(t)) problems.Add($"{method.FullName}: {i} targets a non-probe");
                if (i.OpCode.FlowControl == FlowControl.Cond_Branch && !IsProbeStart(i.Next))
                    problems.Add($"{method.FullName}: no probe after {i}");
            }
            foreach (var h in body.ExceptionHandlers)
                if (!IsProbeStart(h.HandlerStart)) problems.Add($"{method.FullName}: no probe at a {h.HandlerType} handler start");
        }
        return problems;
    }

    [Fact]
    public void TheCacheReusesACopyAndLoadRejectsUnknownAssembliesByName()
    {
        string cache = Path.Combine(_dir, "cache");
        var first = InstrumentedAssemblies.Cached(cache, Original("DmaVerify.Fuzz.TestTargets"));
        Assert.Equal(InstrumentationStatus.Instrumented, first.Status);
        var second = InstrumentedAssemblies.Cached(cache, Original("DmaVerify.Fuzz.TestTargets"));
        Assert.Equal(InstrumentationStatus.AlreadyInstrumented, second.Status);
        Assert.Equal(first.OutputPath, second.OutputPath);

        var e = Assert.Throws<InstrumentationException>(() => InstrumentedAssemblies.Load(cache, ["DmaVerify.NoSuchThing"]));
        Assert.Contains("DmaVerify.NoSuchThing", e.Message);
    }
}
