using System.CommandLine;
using DmaVerify.Cli.Composition;
using DmaVerify.Native;
using DmaVerify.Native.Loading;

namespace DmaVerify.Cli.Verbs;

/// <summary>
/// <c>--allocator PATH.so|PATH.dll:Namespace.Type</c>, <c>--in-process</c> and
/// <c>--allocator-timeout S</c>: plug an IOVA allocator into a verb. The allocator is loaded and
/// checked (every missing symbol named, the ABI version compared) before the verb does any work;
/// a problem is one line and exit code 2.
/// </summary>
internal sealed class AllocatorOptions
{
    public Option<string?> Allocator { get; } = new("--allocator")
    {
        Description = "Check this IOVA allocator: PATH.so (the C ABI of Native/include/dmaverify_iova.h) or PATH.dll:Namespace.Type " +
                      "(a .NET IIovaAllocator). Optimized's DMA layer runs over it as the implementation named after the file; see docs/your-allocator.md.",
        HelpName = "PATH.so|PATH.dll:Type",
    };

    public Option<bool> InProcess { get; } = new("--in-process")
    {
        Description = "Load the allocator into this process: faster, but a crash ends the run and a hang hangs it. " +
                      "By default it runs in a host process, where a crash or a call that does not return is a finding.",
    };

    public Option<double> Timeout { get; } = new("--allocator-timeout")
    {
        Description = "Seconds one allocator call may take before it counts as a hang (default 10).",
        DefaultValueFactory = _ => 10,
        HelpName = "S",
    };

    public void AddTo(Command command)
    {
        command.Add(Allocator);
        command.Add(InProcess);
        command.Add(Timeout);
    }

    /// <summary>Runs <paramref name="body"/> with the plugged allocator (null without
    /// --allocator), which is ended afterwards; a bad --allocator is reported here.</summary>
    public int Run(ParseResult parse, string verb, TextWriter error, Func<PluggedImplementation?, int> body)
    {
        string? text = parse.GetValue(Allocator);
        if (text is null)
        {
            if (parse.GetValue(InProcess))
            {
                error.WriteLine($"{verb}: --in-process needs --allocator");
                return ExitCodes.BadInput;
            }
            return body(null);
        }
        double seconds = parse.GetValue(Timeout);
        if (!(seconds > 0 && seconds <= 86_400))
        {
            error.WriteLine($"{verb}: --allocator-timeout {seconds}: give seconds between 0 and 86400");
            return ExitCodes.BadInput;
        }
        if (!AllocatorSpec.TryParse(text, out var spec, out string problem))
        {
            error.WriteLine($"{verb}: {problem}");
            return ExitCodes.BadInput;
        }
        PluggedImplementation plugged;
        try
        {
            plugged = PluggedImplementation.Load(spec, new PluggedAllocatorOptions
            {
                InProcess = parse.GetValue(InProcess),
                CallTimeout = TimeSpan.FromSeconds(seconds),
            });
        }
        catch (AllocatorLoadException e)
        {
            error.WriteLine($"{verb}: --allocator {e.Message}");
            return ExitCodes.BadInput;
        }
        using (plugged) return body(plugged);
    }
}
