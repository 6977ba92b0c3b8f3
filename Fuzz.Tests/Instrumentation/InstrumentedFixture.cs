using System.Reflection;
using DmaVerify.Fuzz.Instrumentation;

namespace DmaVerify.Tests.FuzzInstrumentation;

/// <summary>
/// Model, Optimized, Harness and the test targets instrumented once per test run into a fresh
/// cache folder and loaded into one context, shared by the tests that need them.
/// </summary>
public sealed class InstrumentedFixture : IDisposable
{
    public const string TestTargets = "DmaVerify.Fuzz.TestTargets";

    public InstrumentedFixture()
    {
        CacheDir = Path.Combine(Path.GetTempPath(), $"dmaverify-instrumented-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Loaded = InstrumentedAssemblies.Load(CacheDir, [.. InstrumentedAssemblies.Default, TestTargets]);
    }

    public string CacheDir { get; }
    public InstrumentedAssemblies Loaded { get; }

    /// <summary>A public static method of a type in the instrumented test targets, as a delegate.</summary>
    public T Target<T>(string typeName, string method) where T : Delegate =>
        Loaded[TestTargets].GetType($"{TestTargets}.{typeName}", throwOnError: true)!
            .GetMethod(method, BindingFlags.Public | BindingFlags.Static)!
            .CreateDelegate<T>();

    public void Dispose()
    {
        try { Directory.Delete(CacheDir, recursive: true); }
        catch (IOException) { /* the OS cleans temp */ }
    }
}
