using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Properties;

/// <summary>
/// A generated test case: a preset, device overrides added to it, the op kinds this case may
/// use (swarm testing) and the ops, with every handle already resolved against the model.
/// </summary>
public sealed record PropertyCase(string Preset, ValueList<DeviceConfig> Devices, OpKinds Swarm, ValueList<CaseOp> Ops)
{
    /// <summary>The free order and long-lived share the case was generated with.</summary>
    public CaseShape Shape { get; init; } = CaseShape.Uniform;

    public Scenario ToScenario() => new(Preset, Devices, Ops.Select(o => new ScenarioStep(o.Op)).ToValueList());

    public PlatformConfig BuildPlatform() => ToScenario().BuildPlatform();

    public string ToText() => ScenarioPrinter.Print(ToScenario());

    public override string ToString() => $"{Preset}: {Ops.Count} ops, {Devices.Count} extra devices, swarm {Swarm}, {Shape}";
}
