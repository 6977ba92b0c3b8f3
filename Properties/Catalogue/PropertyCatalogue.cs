using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;

namespace DmaVerify.Properties;

/// <summary>
/// Every named property run with its default budget (cases) and case shape, for every
/// implementation of a registry. Properties.Tests runs each entry as a [Fact]; `verify check`
/// runs them the same way; both build it over the composition root's registry, so a newly
/// registered implementation is picked up everywhere.
/// </summary>
public sealed class PropertyCatalogue(ImplementationRegistry implementations)
{
    /// <summary>Radix page-table presets, where the fault-injection sweep has pages to fail.</summary>
    public static readonly IReadOnlyList<string> FaultPresets = [Presets.X86Vtd, Presets.AmdVi, Presets.ArmSmmu, Presets.SocVcm];

    /// <summary>The multi-device topologies (shared tables, bypassing virtio devices).</summary>
    public static readonly IReadOnlyList<string> TopologyPresets = [Presets.Virtio, Presets.SocVcm];

    public IReadOnlyList<INamedRun> All { get; } = Build(implementations);

    public INamedRun Get(string name) =>
        All.FirstOrDefault(r => r.Name == name) ?? throw new ArgumentException($"unknown property run '{name}'; known: {string.Join(", ", All.Select(r => r.Name))}");

    public static PropertySpec ModelInvariants(string preset) => new()
    {
        Name = $"invariants/model/{preset}", Preset = preset, Engine = Engine.ModelInvariants, EngineName = "invariants",
        DefaultBudget = 20, EndSize = 50,
    };

    public static PropertySpec ImplementationInvariants(Implementation implementation, string preset) => new()
    {
        Name = $"invariants/{implementation.Name}/{preset}", Preset = preset, Engine = Engine.ImplementationInvariants, EngineName = "invariants",
        ImplementationName = implementation.Name, Implementation = implementation.Create, Model = implementation.ModelOptions,
        AcceptKnownIncompleteness = implementation.AcceptKnownIncompleteness,
        DefaultBudget = 12, EndSize = 50,
    };

    public static PropertySpec Refinement(Implementation implementation, string preset) => new()
    {
        Name = $"refine/{implementation.Name}/{preset}", Preset = preset, Engine = Engine.Refinement, EngineName = "refine",
        ImplementationName = implementation.Name, Implementation = implementation.Create, Model = implementation.ModelOptions,
        AcceptKnownIncompleteness = implementation.AcceptKnownIncompleteness,
        DefaultBudget = 40, EndSize = 60,
    };

    /// <summary>Several devices at once: up to three generated devices join the preset's,
    /// so shared tables and bypassing devices meet each other.</summary>
    public static PropertySpec Topology(Implementation implementation, string preset) => new()
    {
        Name = $"topology/{implementation.Name}/{preset}", Preset = preset, Engine = Engine.Refinement, EngineName = "topology",
        ImplementationName = implementation.Name, Implementation = implementation.Create, Model = implementation.ModelOptions,
        AcceptKnownIncompleteness = implementation.AcceptKnownIncompleteness,
        DefaultBudget = 25, EndSize = 60, Generation = new GenerationOptions { MaxExtraDevices = 3 },
    };

    /// <summary>Short sequences of ops that allocate (each one re-run once per allocation).</summary>
    public static PropertySpec FaultSweep(Implementation implementation, string preset) => new()
    {
        Name = $"faults/{implementation.Name}/{preset}", Preset = preset, Engine = Engine.FaultSweep, EngineName = "faults",
        ImplementationName = implementation.Name, Implementation = implementation.Create, Model = implementation.ModelOptions,
        AcceptKnownIncompleteness = implementation.AcceptKnownIncompleteness,
        DefaultBudget = 8, EndSize = 10,
        Generation = new GenerationOptions
        {
            Kinds = OpKinds.Makers | OpKinds.Unmap | OpKinds.Msi | OpKinds.Domains | OpKinds.Access,
            MaxExtraDevices = 0,
        },
    };

    /// <summary>Concurrent map/unmap/access from 2–3 threads: on one device (x86-vtd, its
    /// lazy default domain) and on three devices sharing one table (soc-vcm).</summary>
    public static ConcurrencySpec Linearizability(Implementation implementation, string preset) => new()
    {
        Name = $"linearizable/{implementation.Name}/{preset}", Preset = preset,
        ImplementationName = implementation.Name, Implementation = implementation.Create, Model = implementation.ModelOptions,
        Devices = preset == Presets.SocVcm ? [0, 1, 2] : [0],
    };

    private static List<INamedRun> Build(ImplementationRegistry implementations)
    {
        var runs = new List<INamedRun>();
        foreach (var preset in Presets.Names) runs.Add(ModelInvariants(preset));
        foreach (var impl in implementations.All)
        {
            foreach (var preset in Presets.Names) runs.Add(ImplementationInvariants(impl, preset));
            foreach (var preset in Presets.Names) runs.Add(Refinement(impl, preset));
            foreach (var preset in TopologyPresets) runs.Add(Topology(impl, preset));
            foreach (var preset in FaultPresets) runs.Add(FaultSweep(impl, preset));
            runs.Add(Linearizability(impl, Presets.X86Vtd));
            runs.Add(Linearizability(impl, Presets.SocVcm));
        }
        return runs;
    }
}
