using System.Reflection;
using System.Runtime.CompilerServices;
using DmaVerify.Contracts;
using DmaVerify.Fuzz.Instrumentation;
using DmaVerify.Fuzz.TestTargets;
using DmaVerify.Model;

namespace DmaVerify.Tests.FuzzInstrumentation;

/// <summary>
/// Instrumented copies of Model, Optimized, Harness and the IL-shape samples are valid IL (every
/// method JIT-compiles), behave exactly like the originals, and record coverage.
/// </summary>
[Collection(CoverageMapCollection.Name)]
public class InstrumentedBehaviourTests(InstrumentedFixture fixture) : IClassFixture<InstrumentedFixture>
{
    [Fact]
    public void TheCopiesAreInstrumentedAndLoadedInTheirOwnContext()
    {
        foreach (var name in InstrumentedAssemblies.Default.Append(InstrumentedFixture.TestTargets))
        {
            var copy = fixture.Loaded[name];
            Assert.True(InstrumentationMarker.IsPresent(copy), $"{name} has no instrumentation marker");
            Assert.NotSame(typeof(ScenarioDigest).Assembly, copy);
            Assert.StartsWith(fixture.CacheDir, copy.Location, StringComparison.Ordinal);
        }
        Assert.False(InstrumentationMarker.IsPresent(typeof(ScenarioDigest).Assembly));
        // The instrumented Optimized and Model bind to the instrumented Contracts, not the original.
        foreach (var side in new[] { "DmaVerify.Optimized", "DmaVerify.Model" })
        {
            var contractsSeen = fixture.Loaded[side].GetReferencedAssemblies().Single(a => a.Name == "DmaVerify.Contracts");
            Assert.Same(fixture.Loaded["DmaVerify.Contracts"], fixture.Loaded.Context.LoadFromAssemblyName(contractsSeen));
        }
    }

    [Fact]
    public void EveryMethodOfEveryCopyJitCompiles()
    {
        int compiled = 0;
        foreach (var name in InstrumentedAssemblies.Default.Append(InstrumentedFixture.TestTargets))
            foreach (var type in fixture.Loaded[name].GetTypes().Where(t => !t.ContainsGenericParameters))
                foreach (var method in type.GetMethods(BindingFlags.DeclaredOnly | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static)
                             .Cast<MethodBase>()
                             .Concat(type.GetConstructors(BindingFlags.DeclaredOnly | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static)))
                {
                    if (method.IsAbstract || method.ContainsGenericParameters || method.GetMethodBody() is null) continue;
                    try
                    {
                        RuntimeHelpers.PrepareMethod(method.MethodHandle);
                    }
                    catch (InvalidProgramException e)
                    {
                        Assert.Fail($"{name}: {type.FullName}.{method.Name} is invalid after instrumentation: {e.Message}");
                    }
                    compiled++;
                }
        Assert.True(compiled > 1000, $"only {compiled} methods compiled");
    }

    [Fact]
    public void IlShapesGiveTheSameResultsAndDistinctCoverage()
    {
        var digest = fixture.Target<Func<int, string>>(nameof(IlShapes), nameof(IlShapes.Digest));
        var maps = new HashSet<string>();
        using var map = new ManagedCoverageMap();
        for (int x = -40; x <= 300; x++)
        {
            map.Clear();
            Assert.Equal(IlShapes.Digest(x), digest(x));
            Assert.True(map.EdgesHit() > 50, $"x={x}: only {map.EdgesHit()} edges hit");
            maps.Add(Convert.ToHexString(map.Bytes));
        }
        // Different paths through the shapes leave different maps.
        Assert.True(maps.Count > 20, $"only {maps.Count} distinct maps over 341 inputs");
    }

    [Fact]
    public void TheSameInputLeavesTheSameMap()
    {
        var digest = fixture.Target<Func<int, string>>(nameof(IlShapes), nameof(IlShapes.Digest));
        using var map = new ManagedCoverageMap();
        digest(17); // static constructors and first-call paths run once
        map.Clear();
        digest(17);
        var first = map.Snapshot();
        map.Clear();
        digest(17);
        Assert.Equal(first, map.Snapshot());
    }

    [Fact]
    public void WithoutAnAttachedMapTheProbesWriteToTheDummy()
    {
        var digest = fixture.Target<Func<int, string>>(nameof(IlShapes), nameof(IlShapes.Digest));
        Assert.Equal(IlShapes.Digest(3), digest(3));
    }

    [Fact]
    public void CorpusScenariosReplayIdenticallyThroughTheInstrumentedCopies()
    {
        var run = fixture.Target<Func<string, string>>(nameof(ScenarioDigest), nameof(ScenarioDigest.Run));
        using var map = new ManagedCoverageMap();
        var files = Repo.CorpusFiles();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            string text = File.ReadAllText(Path.Combine(Repo.Root, file));
            map.Clear();
            Assert.Equal(ScenarioDigest.Run(text), run(text));
            Assert.True(map.EdgesHit() > 200, $"{file}: only {map.EdgesHit()} edges hit");
        }
    }

    [Fact]
    public void RandomRunsOnEveryPresetReplayIdenticallyThroughTheInstrumentedCopies()
    {
        var run = fixture.Target<Func<string, string>>(nameof(ScenarioDigest), nameof(ScenarioDigest.Run));
        using var map = new ManagedCoverageMap();
        foreach (var preset in Presets.Names.Concat(Presets.Variants))
        {
            var platform = Presets.Get(preset);
            var model = new ModelSystem(platform);
            var generator = new RandomOps(platform, new Random(preset.Length * 131));
            var steps = new List<ScenarioStep>();
            for (int i = 0; i < 60; i++)
            {
                var op = generator.Next(model.State);
                model.Apply(op);
                steps.Add(new ScenarioStep(op));
            }
            string text = ScenarioPrinter.Print(new Scenario(preset, ValueList<DeviceConfig>.Empty, steps.ToValueList()));
            string original = ScenarioDigest.Run(text);
            Assert.DoesNotContain("parse error", original);
            Assert.Equal(original, run(text));
        }
        Assert.True(map.EdgesHit() > 1000, $"only {map.EdgesHit()} edges hit over all presets");
    }
}
