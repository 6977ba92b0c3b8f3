using System.Reflection;
using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Harness;

/// <summary>An implementation an engine can be asked for by name (<c>--impl NAME</c>): how to
/// build one over a platform, and the model options it is checked with.</summary>
public sealed record Implementation(string Name, Func<PlatformConfig, ISystemUnderTest> Create, ModelOptions ModelOptions)
{
    /// <summary>Every engine counts, instead of failing on, the INV-11 OutOfIova divergences this
    /// implementation attributes to its documented incompleteness (<see cref="IKnownIncompleteness"/>;
    /// <see cref="RefinementOptions.AcceptKnownIncompleteness"/>). For a faithful Linux peer,
    /// whose gaps are Linux's own.</summary>
    public bool AcceptKnownIncompleteness { get; init; }

    /// <summary>How every engine checks this implementation against the model.</summary>
    public RefinementOptions Refinement => new() { Model = ModelOptions, AcceptKnownIncompleteness = AcceptKnownIncompleteness };
}

/// <summary>
/// The implementations by name. The harness knows none of them: the composition root (the CLI)
/// builds the registry and hands it to the engines. A registry built by a static
/// <c>Registry</c> property of a <see cref="Provider"/> type — or by its static
/// <c>RegistryFor(string)</c> method, given <see cref="ProviderArgument"/> (an allocator named on
/// the command line) — can be rebuilt inside another load context (the instrumented copies a
/// fuzzer runs), where the types are not the caller's.
/// </summary>
public sealed class ImplementationRegistry
{
    private readonly Dictionary<string, Implementation> _byName = new(StringComparer.Ordinal);

    /// <param name="provider">The type whose public static <c>Registry</c> property returns
    /// this registry, or null when it cannot be rebuilt elsewhere (a test's own registry).</param>
    /// <param name="implementations">The first one is the default.</param>
    /// <param name="providerArgument">What the provider's <c>RegistryFor(string)</c> needs to
    /// build this registry again; null when its <c>Registry</c> property builds it.</param>
    public ImplementationRegistry(Type? provider, IEnumerable<Implementation> implementations, string? providerArgument = null)
    {
        Provider = provider;
        ProviderArgument = providerArgument;
        var all = implementations.ToList();
        if (all.Count == 0) throw new ArgumentException("a registry needs at least one implementation", nameof(implementations));
        foreach (var implementation in all)
            if (!_byName.TryAdd(implementation.Name, implementation))
                throw new ArgumentException($"implementation '{implementation.Name}' is registered twice", nameof(implementations));
        Default = all[0];
        Names = [.. _byName.Keys.Order(StringComparer.Ordinal)];
    }

    public Type? Provider { get; }

    /// <summary>The argument of the provider's <c>RegistryFor(string)</c>, or null.</summary>
    public string? ProviderArgument { get; }

    /// <summary>What engines run when no <c>--impl</c> is given.</summary>
    public Implementation Default { get; }

    /// <summary>Every name, in a stable order.</summary>
    public IReadOnlyList<string> Names { get; }

    public IEnumerable<Implementation> All => Names.Select(n => _byName[n]);

    public bool TryGet(string? name, out Implementation implementation, out string error)
    {
        if (name is null)
        {
            implementation = Default;
            error = "";
            return true;
        }
        if (_byName.TryGetValue(name, out implementation!))
        {
            error = "";
            return true;
        }
        error = $"unknown implementation '{name}'; known: {string.Join(", ", Names)}";
        return false;
    }

    /// <summary>Throws <see cref="ArgumentException"/> for an unknown name.</summary>
    public Implementation Get(string? name) =>
        TryGet(name, out var implementation, out var error) ? implementation : throw new ArgumentException(error, nameof(name));

    /// <summary>The registry a provider type builds (its public static <c>Registry</c> property,
    /// or its public static <c>RegistryFor(string)</c> method when <paramref name="argument"/> is
    /// given), resolved in whatever load context holds <paramref name="provider"/>.</summary>
    public static ImplementationRegistry FromProvider(Type provider, string? argument = null)
    {
        object? built;
        if (argument is null)
        {
            var property = provider.GetProperty("Registry", BindingFlags.Public | BindingFlags.Static)
                ?? throw new ArgumentException($"{provider.FullName} has no public static Registry property", nameof(provider));
            built = property.GetValue(null);
        }
        else
        {
            var method = provider.GetMethod("RegistryFor", BindingFlags.Public | BindingFlags.Static, [typeof(string)])
                ?? throw new ArgumentException($"{provider.FullName} has no public static RegistryFor(string) method", nameof(provider));
            built = method.Invoke(null, [argument]);
        }
        return built as ImplementationRegistry
            ?? throw new ArgumentException($"{provider.FullName}'s registry is not an {nameof(ImplementationRegistry)} of this load context", nameof(provider));
    }
}
