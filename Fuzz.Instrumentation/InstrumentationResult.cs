namespace DmaVerify.Fuzz.Instrumentation;

/// <summary>What <see cref="AssemblyInstrumenter.Instrument"/> did with an assembly.</summary>
public enum InstrumentationStatus
{
    /// <summary>Probes were inserted and the output written.</summary>
    Instrumented,
    /// <summary>The input carries the instrumentation marker; it was copied unchanged.</summary>
    AlreadyInstrumented,
    /// <summary>The input cannot be instrumented (not .NET, mixed mode, the runtime itself...);
    /// nothing was written. <see cref="InstrumentationResult.Message"/> says why.</summary>
    Refused,
}

/// <summary>The outcome of instrumenting one assembly.</summary>
public sealed record InstrumentationResult(
    InstrumentationStatus Status,
    string InputPath,
    string OutputPath,
    string Message,
    int Methods = 0,
    int Probes = 0)
{
    /// <summary>The message of a copy an earlier run made (the input itself is not instrumented).</summary>
    public const string FromTheCache = "from the cache";

    public bool Succeeded => Status != InstrumentationStatus.Refused;

    /// <summary>64-bit comparisons hooked for value profiling (0 without compare hooks).</summary>
    public int CompareHooks { get; init; }

    public override string ToString() => Status switch
    {
        InstrumentationStatus.Instrumented => $"{InputPath}: {Methods} methods, {Probes} probes{(CompareHooks > 0 ? $", {CompareHooks} comparison hooks" : "")} -> {OutputPath}",
        InstrumentationStatus.AlreadyInstrumented when InputPath == OutputPath => $"{InputPath}: already instrumented; left unchanged",
        InstrumentationStatus.AlreadyInstrumented when Message == FromTheCache => $"{InputPath}: instrumented copy from the cache -> {OutputPath}",
        InstrumentationStatus.AlreadyInstrumented => $"{InputPath}: already instrumented; copied unchanged -> {OutputPath}",
        _ => $"{InputPath}: {Message}",
    };
}
