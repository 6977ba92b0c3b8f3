using DmaVerify.Cli.Composition;
using DmaVerify.Properties;

namespace DmaVerify.Properties.Tests.Catalogue;

/// <summary>The catalogue over the implementations `verify` ships, as `verify check` builds it.</summary>
internal static class TestCatalogue
{
    public static PropertyCatalogue Default { get; } = new(Implementations.Registry);
}
