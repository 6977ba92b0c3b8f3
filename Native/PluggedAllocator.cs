using System.Globalization;
using DmaVerify.Native.Isolation;
using DmaVerify.Native.Loading;
using DmaVerify.Optimized.Iova;

namespace DmaVerify.Native;

/// <summary>How a plugged allocator runs.</summary>
public sealed record PluggedAllocatorOptions
{
    /// <summary>Load it into this process (fast, no isolation: a crash ends the process and a
    /// hang hangs it). The default runs it in a host process.</summary>
    public bool InProcess { get; init; }

    /// <summary>How long one call may take before the host is killed and the call is a finding.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How to start the DmaVerify command that hosts allocators (the executable and any
    /// leading arguments; <c>allocator-host SPEC</c> is appended). Needed unless in process.</summary>
    public IReadOnlyList<string> HostCommand { get; init; } = [];

    /// <summary>One line that carries the spec and these options (not the host command, which
    /// each process works out for itself), for registries rebuilt in another load context and
    /// for child processes; <see cref="TryParseArgument"/> reads it back.</summary>
    public string ToArgument(AllocatorSpec spec) =>
        string.Create(CultureInfo.InvariantCulture, $"{(InProcess ? "in-process" : "isolated")};{CallTimeout.TotalMilliseconds:0};{spec}");

    public static bool TryParseArgument(string argument, out AllocatorSpec spec, out PluggedAllocatorOptions options, out string error)
    {
        spec = null!;
        options = new PluggedAllocatorOptions();
        var parts = argument.Split(';', 3);
        if (parts.Length != 3 || parts[0] is not ("in-process" or "isolated")
            || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double ms) || ms <= 0)
        {
            error = $"not a plugged-allocator argument: {argument}";
            return false;
        }
        options = options with { InProcess = parts[0] == "in-process", CallTimeout = TimeSpan.FromMilliseconds(ms) };
        return AllocatorSpec.TryParse(parts[2], out spec, out error);
    }
}

/// <summary>
/// An allocator given on the command line (<c>--allocator PATH.so</c> or
/// <c>--allocator PATH.dll:Namespace.Type</c>), loaded and checked, ready to make one
/// <see cref="IIovaAllocator"/> per IOVA space (<see cref="Create"/> fits Optimized's
/// IovaAllocatorFactory, so the DMA layer runs over it unchanged). By default the allocator
/// runs in a host process: a crash or a hang in it is a finding naming the call, and the next
/// space gets a fresh host. Dispose ends the host.
/// </summary>
public sealed class PluggedAllocator : IDisposable
{
    private readonly IAllocatorSource? _inProcess;
    private readonly AllocatorHostClient? _host;

    private PluggedAllocator(AllocatorSpec spec, PluggedAllocatorOptions options, IAllocatorSource? inProcess, AllocatorHostClient? host)
    {
        Spec = spec;
        Options = options;
        _inProcess = inProcess;
        _host = host;
        Capabilities = inProcess?.Capabilities ?? host!.Capabilities;
    }

    /// <summary>Loads and checks the allocator (in the host process unless in process); throws
    /// <see cref="AllocatorLoadException"/> with one line naming the problem.</summary>
    public static PluggedAllocator Load(AllocatorSpec spec, PluggedAllocatorOptions options)
    {
        if (options.InProcess) return new PluggedAllocator(spec, options, AllocatorSources.Load(spec), null);
        if (options.HostCommand.Count == 0) throw new ArgumentException("an isolated allocator needs the host command", nameof(options));
        return new PluggedAllocator(spec, options, null, new AllocatorHostClient(spec, options.HostCommand, options.CallTimeout));
    }

    public AllocatorSpec Spec { get; }
    public PluggedAllocatorOptions Options { get; }
    public AllocatorCapabilities Capabilities { get; }

    /// <summary>The implementation name (<c>--impl</c>, table columns).</summary>
    public string Name => Spec.Name;

    /// <summary>Host processes started again after one crashed or hung.</summary>
    public int HostRestarts => _host?.Restarts ?? 0;

    /// <summary>A fresh IOVA space (an IovaAllocatorFactory). Throws
    /// <see cref="AllocatorRefusedException"/> when dv_iova_create returns NULL, and the crash
    /// exceptions when the host dies.</summary>
    public IIovaAllocator Create(ulong startPfn, int granuleShift) =>
        _inProcess is not null ? _inProcess.Create(startPfn, granuleShift) : _host!.Create(startPfn, granuleShift);

    /// <summary>One line: name, file, what it offers, where it runs.</summary>
    public string Describe() =>
        $"{Name} ({Spec}; {Capabilities.Describe()}; " +
        (Options.InProcess ? "in this process, no isolation)" : $"in a host process, {Options.CallTimeout.TotalSeconds:0.#} s per call)");

    public void Dispose() => _host?.Dispose();
}
