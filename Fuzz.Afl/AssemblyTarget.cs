using System.Reflection;
using DmaVerify.Fuzz.Instrumentation;

namespace DmaVerify.Fuzz.Afl;

/// <summary>
/// A target given as <c>PATH.dll:Namespace.Type.Method</c>: a public static method taking
/// <c>ReadOnlySpan&lt;byte&gt;</c> or <c>byte[]</c> and returning void (an exception is a
/// finding) or bool (false is a finding too). The assembly is instrumented into the cache and
/// loaded with any other assemblies named for instrumentation.
/// </summary>
public static class AssemblyTarget
{
    private delegate bool SpanPredicate(ReadOnlySpan<byte> input);

    public static bool IsAssemblyTarget(string spec) => spec.Contains(".dll:", StringComparison.OrdinalIgnoreCase);

    /// <summary>Loads the target; throws <see cref="InstrumentationException"/> or
    /// <see cref="ArgumentException"/> with a message naming what is wrong.</summary>
    public static FuzzAction Load(string spec, string cacheDir, IEnumerable<string> alsoInstrument)
    {
        int colon = spec.IndexOf(".dll:", StringComparison.OrdinalIgnoreCase) + 4;
        string path = spec[..colon];
        string qualified = spec[(colon + 1)..];
        int dot = qualified.LastIndexOf('.');
        if (dot <= 0 || dot == qualified.Length - 1)
            throw new ArgumentException($"'{spec}': expected PATH.dll:Namespace.Type.Method");
        string typeName = qualified[..dot], methodName = qualified[(dot + 1)..];

        var loaded = InstrumentedAssemblies.Load(cacheDir, alsoInstrument.Append(path));
        var assembly = loaded.Context.LoadFromAssemblyPath(loaded.Results[^1].OutputPath);
        var type = assembly.GetType(typeName, throwOnError: false)
            ?? throw new ArgumentException($"'{spec}': no type {typeName} in {path}");
        var method = type.GetMethod(methodName, BindingFlags.Public | BindingFlags.Static, [typeof(ReadOnlySpan<byte>)])
            ?? type.GetMethod(methodName, BindingFlags.Public | BindingFlags.Static, [typeof(byte[])])
            ?? throw new ArgumentException($"'{spec}': no public static {methodName}(ReadOnlySpan<byte>) or {methodName}(byte[]) in {typeName}");

        bool span = method.GetParameters()[0].ParameterType == typeof(ReadOnlySpan<byte>);
        if (method.ReturnType == typeof(void))
            return span ? method.CreateDelegate<FuzzAction>() : Wrap(method.CreateDelegate<Action<byte[]>>());
        if (method.ReturnType == typeof(bool))
            return span ? Wrap(method.CreateDelegate<SpanPredicate>()) : Wrap(method.CreateDelegate<Func<byte[], bool>>());
        throw new ArgumentException($"'{spec}': {methodName} must return void or bool");
    }

    private static FuzzAction Wrap(Action<byte[]> action) => input => action(input.ToArray());

    private static FuzzAction Wrap(Func<byte[], bool> predicate) => input =>
    {
        if (!predicate(input.ToArray())) throw new FuzzTargetFailed("the target returned false");
    };

    private static FuzzAction Wrap(SpanPredicate predicate) => input =>
    {
        if (!predicate(input)) throw new FuzzTargetFailed("the target returned false");
    };
}

/// <summary>A target reported a finding by returning false.</summary>
public sealed class FuzzTargetFailed(string message) : Exception(message);
