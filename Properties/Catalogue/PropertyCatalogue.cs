using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;

namespace DmaVerify.Properties;

/// <summary>
/// Every named property run with its default budget (cases) and case shape. Properties.Tests
/// runs each entry as a [Fact]; `verify check` runs them the same way. Implementations come from
/// <see cref="Implementations.Names"/>, so a newly registered one is picked up everywhere.
/// </summary>
public static class PropertyCatalogue
{
    /// <summary>Radix page-table presets, where the fault-injection sweep has pages to fail.</summary>
    public static readonly IReadOnlyList<string> FaultPresets = [Presets.X86Vtd, Presets.AmdVi, Presets.ArmSmmu, Presets.SocVcm];

    /// <summary>The multi-device topologies (shared tables, bypassing virtio devices).</summary>
    public static readonly IReadOnlyList<string> TopologyPresets = [Presets.Virtio, Presets.SocVcm];

    public static IReadOnlyList<INamedRun> All { get; } = Build();

    public static INamedRun Get(string name) =>
        All.FirstOrDefault(r => r.Name == name) ?? throw new ArgumentException($"unknown property run '{name}'; known: {string.Join(", ", All.Select(r => r.Name))}");

    public static PropertySpec ModelInvariants(string preset) => new()
    {
        Name = $"invariants/model/{preset}", Preset = preset, Engine = Engine.ModelInvariants, EngineName = "invariants",
        DefaultBudget = 20, EndSize = 50,
    };

    public static PropertySpec ImplementationInvariants(string implementation, string preset) => new()
    {
        Name = $"invariants/{implementation}/{preset}", Preset = preset, Engine = Engine.ImplementationInvariants, EngineName = "invariants",
        ImplementationName = implementation, Implementation = Implementations.Factory(implementation),
        DefaultBudget = 12, EndSize = 50,
    };

    public static PropertySpec Refinement(string implementation, string preset) => new()
    {
        Name = $"refine/{implementation}/{preset}", Preset = preset, Engine = Engine.Refinement, EngineName = "refine",
        ImplementationName = implementation, Implementation = Implementations.Factory(implementation),
        DefaultBudget = 40, EndSize = 60,
    };

    /// <summary>Several devices at once: up to three generated devices join the preset's,
    /// so shared tables and bypassing devices meet each other.</summary>
    public static PropertySpec Topology(string implementation, string preset) => new()
    {
        Name = $"topology/{implementation}/{preset}", Preset = preset, Engine = Engine.Refinement, EngineName = "topology",
        ImplementationName = implementation, Implementation = Implementations.Factory(implementation),
        DefaultBudget = 25, EndSize = 60, Generation = new GenerationOptions { MaxExtraDevices = 3 },
    };

    /// <summary>Short sequences of ops that allocate (each one re-run once per allocation).</summary>
    public static PropertySpec FaultSweep(string implementation, string preset) => new()
    {
        Name = $"faults/{implementation}/{preset}", Preset = preset, Engine = Engine.FaultSweep, EngineName = "faults",
        ImplementationName = implementation, Implementation = Implementations.Factory(implementation),
        DefaultBudget = 8, EndSize = 10,
        Generation = new GenerationOptions
        {
            Kinds = OpKinds.Makers | OpKinds.Unmap | OpKinds.Msi | OpKinds.Domains | OpKinds.Access,
            MaxExtraDevices = 0,
        },
    };

    /// <summary>Concurrent map/unmap/access from 2–3 threads: on one device (x86-vtd, its
    /// lazy default domain) and on three devices sharing one table (soc-vcm).</summary>
    public static ConcurrencySpec Linearizability(string implementation, string preset) => new()
    {
        Name = $"linearizable/{implementation}/{preset}", Preset = preset,
        ImplementationName = implementation, Implementation = Implementations.Factory(implementation),
        Devices = preset == Presets.SocVcm ? [0, 1, 2] : [0],
    };

    private static List<INamedRun> Build()
    {
        var runs = new List<INamedRun>();
        foreach (var preset in Presets.Names) runs.Add(ModelInvariants(preset));
        foreach (var impl in Implementations.Names)
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
