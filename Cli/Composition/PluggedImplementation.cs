using System.Runtime.CompilerServices;
using DmaVerify.Conformance;
using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;
using DmaVerify.Native;
using DmaVerify.Native.Loading;
using DmaVerify.Optimized.Dma;
using DmaVerify.Optimized.Iova;

namespace DmaVerify.Cli.Composition;

/// <summary>
/// An allocator given with <c>--allocator</c>, as the composition root offers it to the engines:
/// an implementation named after the file (Optimized's DMA layer, page tables and DMA paths over
/// the plugged allocator, through <see cref="OptimizedSystemOptions.IovaAllocator"/>, so a finding
/// is about the allocator), alone in its registry; a conformance subject; and, for
/// <c>verify show</c>, the allocator instances each system made. Dispose ends the host process.
/// </summary>
public sealed class PluggedImplementation : IDisposable
{
    private readonly ConditionalWeakTable<ISystemUnderTest, List<IIovaAllocator>> _made = new();

    private PluggedImplementation(PluggedAllocator allocator, string argument)
    {
        Allocator = allocator;
        Argument = argument;
        Implementation = new Implementation(allocator.Name, Create, new ModelOptions { StrictPci32First = true });
        Registry = new ImplementationRegistry(typeof(Implementations), [Implementation], argument);
    }

    public PluggedAllocator Allocator { get; }
    public Implementation Implementation { get; }

    /// <summary>The plugged implementation alone: what every engine runs with --allocator.</summary>
    public ImplementationRegistry Registry { get; }

    /// <summary>The spec and options in one line (<see cref="PluggedAllocatorOptions.ToArgument"/>).</summary>
    public string Argument { get; }

    /// <summary>What a replay command needs to meet the same allocator again.</summary>
    public string ReplayOptions =>
        $"--allocator {Quote(Allocator.Spec.ToString())}" + (Allocator.Options.InProcess ? " --in-process" : "");

    /// <summary>The options that load the same allocator in a child `verify` process.</summary>
    public IReadOnlyList<string> CommandLine =>
    [
        "--allocator", Allocator.Spec.ToString(),
        .. Allocator.Options.InProcess ? new[] { "--in-process" } : [],
        "--allocator-timeout", Allocator.Options.CallTimeout.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
    ];

    public AllocatorSubject Subject => AllocatorSubject.Of(Allocator);

    /// <summary>Loads the allocator an argument names; throws <see cref="AllocatorLoadException"/>.</summary>
    public static PluggedImplementation Load(string argument)
    {
        if (!PluggedAllocatorOptions.TryParseArgument(argument, out var spec, out var options, out string error))
            throw new AllocatorLoadException(error);
        return Load(spec, options);
    }

    public static PluggedImplementation Load(AllocatorSpec spec, PluggedAllocatorOptions options)
    {
        options = options with { HostCommand = options.InProcess ? [] : HostCommand() };
        return new PluggedImplementation(PluggedAllocator.Load(spec, options), options.ToArgument(spec));
    }

    /// <summary>The allocator instances <paramref name="system"/> made (one per dma-iommu
    /// domain, in creation order); empty for systems not made here.</summary>
    public IReadOnlyList<IIovaAllocator> AllocatorsOf(ISystemUnderTest system)
    {
        if (!_made.TryGetValue(system, out var list)) return [];
        lock (list) return [.. list];
    }

    private OptimizedSystem Create(PlatformConfig platform)
    {
        var made = new List<IIovaAllocator>();
        var system = new OptimizedSystem(platform, OptimizedSystemOptions.Optimized with
        {
            Name = Allocator.Name,
            IovaAllocator = (start, shift) =>
            {
                var allocator = Allocator.Create(start, shift);
                lock (made) made.Add(allocator);
                return allocator;
            },
        });
        _made.AddOrUpdate(system, made);
        return system;
    }

    /// <summary>How to start this program as an allocator host: the apphost or dotnet with
    /// verify.dll, found beside this assembly (also when it runs inside a test host).</summary>
    internal static IReadOnlyList<string> HostCommand()
    {
        string folder = AppContext.BaseDirectory;
        string dll = Path.Combine(folder, "verify.dll");
        string process = Environment.ProcessPath ?? "dotnet";
        if (Path.GetFileNameWithoutExtension(process) == "dotnet") return [process, dll];
        string apphost = Path.Combine(folder, OperatingSystem.IsWindows() ? "verify.exe" : "verify");
        return File.Exists(apphost) ? [apphost] : ["dotnet", dll];
    }

    private static string Quote(string s) => s.Contains(' ') || s.Contains('\'') ? $"'{s.Replace("'", "'\\''")}'" : s;

    public void Dispose() => Allocator.Dispose();
}
