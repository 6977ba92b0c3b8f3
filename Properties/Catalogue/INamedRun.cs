namespace DmaVerify.Properties;

/// <summary>A run in the catalogue, as `verify check` and the tests see it.</summary>
public interface INamedRun
{
    /// <summary>e.g. <c>refine/optimized/x86-vtd</c>: engine/implementation-or-model/preset.</summary>
    string Name { get; }
    string Preset { get; }
    /// <summary>The engine's short name: invariants, refine, topology, faults, linearizable.</summary>
    string EngineName { get; }
    int DefaultBudget { get; }
    PropertyResult Run(PropertyRunOptions? options = null);
}
