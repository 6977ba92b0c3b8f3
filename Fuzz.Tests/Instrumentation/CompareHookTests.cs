using System.Reflection;
using System.Runtime.CompilerServices;
using DmaVerify.Contracts;
using DmaVerify.Fuzz.Instrumentation;
using DmaVerify.Fuzz.TestTargets;
using DmaVerify.FuzzRuntime;
using DmaVerify.Model;

namespace DmaVerify.Tests.FuzzInstrumentation;

/// <summary>The instrumented copies with comparison hooks (-use_value_profile=1), made once.</summary>
public sealed class HookedInstrumentedFixture : IDisposable
{
    public HookedInstrumentedFixture()
    {
        CacheDir = Path.Combine(Path.GetTempPath(), $"dmaverify-hooked-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Loaded = InstrumentedAssemblies.Load(CacheDir, [.. InstrumentedAssemblies.Default, InstrumentedFixture.TestTargets], compareHooks: true);
    }

    public string CacheDir { get; }
    public InstrumentedAssemblies Loaded { get; }

    public T Target<T>(string typeName, string method) where T : Delegate =>
        Loaded[InstrumentedFixture.TestTargets].GetType($"{InstrumentedFixture.TestTargets}.{typeName}", throwOnError: true)!
            .GetMethod(method, BindingFlags.Public | BindingFlags.Static)!
            .CreateDelegate<T>();

    public void Dispose()
    {
        try { Directory.Delete(CacheDir, recursive: true); }
        catch (IOException) { /* the OS cleans temp */ }
    }
}

/// <summary>
/// Comparison hooks: every method of the hooked copies still JIT-compiles and behaves exactly as
/// before (IL shapes, random runs on every preset), 64-bit comparisons report their operands
/// and value-profile features while <see cref="CmpTrace.Enabled"/>, and 32-bit ones do not.
/// </summary>
[Collection(CoverageMapCollection.Name)]
public class CompareHookTests(HookedInstrumentedFixture fixture) : IClassFixture<HookedInstrumentedFixture>
{
    [Fact]
    public void EveryMethodOfEveryHookedCopyJitCompiles()
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
                        Assert.Fail($"{name}: {type.FullName}.{method.Name} is invalid with comparison hooks: {e.Message}");
                    }
                    compiled++;
                }
        Assert.True(compiled > 1000, $"only {compiled} methods compiled");
    }

    [Fact]
    public void TheCopiesCountTheirHooks()
    {
        string cache = Path.Combine(fixture.CacheDir, "again");
        var original = Path.Combine(AppContext.BaseDirectory, "DmaVerify.Optimized.dll");
        var hooked = AssemblyInstrumenter.Instrument(original, Path.Combine(cache, "hooked", "DmaVerify.Optimized.dll"), compareHooks: true);
        var plain = AssemblyInstrumenter.Instrument(original, Path.Combine(cache, "plain", "DmaVerify.Optimized.dll"));
        Assert.True(hooked.CompareHooks > 100, hooked.ToString());
        Assert.Equal(0, plain.CompareHooks);
        Assert.Equal(plain.Probes, hooked.Probes);
        Assert.Contains("comparison hooks", hooked.ToString());
    }

    [Fact]
    public void HookedShapesGiveTheSameResults()
    {
        var digest = fixture.Target<Func<int, string>>(nameof(IlShapes), nameof(IlShapes.Digest));
        using var map = new ManagedCoverageMap();
        CmpTrace.Enabled = true;
        try
        {
            for (int x = -40; x <= 300; x++) Assert.Equal(IlShapes.Digest(x), digest(x));
        }
        finally
        {
            CmpTrace.Enabled = false;
            CmpTrace.ClearFeatures();
        }
        Assert.Equal(IlShapes.Digest(9), digest(9)); // and with the hooks switched off
    }

    [Fact]
    public void SixtyFourBitComparisonsReportTheirOperandsAndThirtyTwoBitOnesDoNot()
    {
        var compare = fixture.Target<Func<long, ulong, int, int>>(nameof(IlShapes), nameof(IlShapes.Comparisons));
        CmpTrace.ResetPairs();
        CmpTrace.ClearFeatures();
        CmpTrace.Enabled = true;
        int result;
        try
        {
            result = compare(0x5555_0000_1111, 0xDEAD_BEEF_0042, 0x0BADF00D);
        }
        finally
        {
            CmpTrace.Enabled = false;
        }
        Assert.Equal(IlShapes.Comparisons(0x5555_0000_1111, 0xDEAD_BEEF_0042, 0x0BADF00D), result);
        var pairs = new HashSet<(ulong, ulong)>();
        for (int i = 0; i < CmpTrace.TableSize; i++)
            if (CmpTrace.TryGetPair(i, out ulong a, out ulong b)) pairs.Add((a, b));
        Assert.Contains((0x5555_0000_1111UL, 0x1234_5678_9ABCUL), pairs);   // a < 0x1234_5678_9ABC
        Assert.Contains((0xDEAD_BEEF_0042UL, 0xFFFF_FFFFUL), pairs);          // b > 0xFFFF_FFFF
        Assert.Contains((0xDEAD_BEEF_0042UL, 0UL), pairs);                   // b != 0
        Assert.DoesNotContain(pairs, p => p.Item1 == 0x0BADF00D || p.Item2 == 0x0BADF00D); // c > 5 is 32-bit
        Assert.True(CmpTrace.Features.Length >= 8, $"{CmpTrace.Features.Length} value-profile features");
        CmpTrace.ClearFeatures();
        CmpTrace.ResetPairs();

        // Switched off, the hooks record nothing.
        compare(1, 2, 3);
        Assert.Equal(0, CmpTrace.Features.Length);
        Assert.False(CmpTrace.TryGetPair(0, out _, out _));
    }

    [Fact]
    public void RandomRunsOnEveryPresetReplayIdenticallyWithTheHooksOn()
    {
        var run = fixture.Target<Func<string, string>>(nameof(ScenarioDigest), nameof(ScenarioDigest.Run));
        CmpTrace.Enabled = true;
        try
        {
            foreach (var preset in Presets.Names.Concat(Presets.Variants))
            {
                var platform = Presets.Get(preset);
                var model = new ModelSystem(platform);
                var generator = new RandomOps(platform, new Random(preset.Length * 977));
                var steps = new List<ScenarioStep>();
                for (int i = 0; i < 60; i++)
                {
                    var op = generator.Next(model.State);
                    model.Apply(op);
                    steps.Add(new ScenarioStep(op));
                }
                string text = ScenarioPrinter.Print(new Scenario(preset, ValueList<DeviceConfig>.Empty, steps.ToValueList()));
                Assert.Equal(ScenarioDigest.Run(text), run(text));
                CmpTrace.ClearFeatures();
            }
            Assert.True(CmpTrace.PairCount > 20, $"only {CmpTrace.PairCount} operand pairs recorded");
        }
        finally
        {
            CmpTrace.Enabled = false;
            CmpTrace.ClearFeatures();
            CmpTrace.ResetPairs();
        }
    }
}
