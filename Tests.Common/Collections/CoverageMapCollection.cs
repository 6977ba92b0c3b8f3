namespace DmaVerify.Tests.Common;

/// <summary>The coverage map is one process-wide static: tests that run fuzz targets or attach
/// an engine's map run one at a time, or they would count each other's edges.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CoverageMapCollection
{
    public const string Name = "coverage map";
}
