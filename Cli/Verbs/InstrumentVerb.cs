using DmaVerify.Fuzz.Instrumentation;

namespace DmaVerify.Cli.Verbs;

/// <summary>`verify instrument IN.dll [--out OUT.dll]`: insert AFL edge probes into an IL-only
/// assembly (in place without --out). An already-instrumented input is left as it is.</summary>
internal static class InstrumentVerb
{
    public static int Run(string input, string? output, TextWriter stdout, TextWriter error)
    {
        if (output is not null && Files.OutputPaths.WhyNotWritableFile(output) is string bad)
        {
            error.WriteLine($"verify instrument: --out {output}: {bad}");
            return ExitCodes.BadInput;
        }
        var result = AssemblyInstrumenter.Instrument(input, output ?? input);
        switch (result.Status)
        {
            case InstrumentationStatus.Refused:
                error.WriteLine($"verify instrument: {result}");
                return ExitCodes.BadInput;
            default:
                stdout.WriteLine(result.ToString());
                return ExitCodes.Ok;
        }
    }
}
