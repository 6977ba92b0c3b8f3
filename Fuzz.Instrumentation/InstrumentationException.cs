namespace DmaVerify.Fuzz.Instrumentation;

/// <summary>An assembly that was asked for could not be found, instrumented or loaded. The
/// message names the assembly and the reason.</summary>
public sealed class InstrumentationException(string message, Exception? inner = null) : Exception(message, inner);
