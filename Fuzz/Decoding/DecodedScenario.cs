using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Fuzz.Decoding;

/// <summary>What a fuzz input decodes to: a preset, at most one device override, the platform
/// they build, and the op list.</summary>
public sealed record DecodedScenario(string Preset, ValueList<DeviceConfig> Overrides, PlatformConfig Platform, IReadOnlyList<Op> Ops)
{
    /// <summary>The scenario in the shape the text form, <c>verify replay</c> and corpus/ use.</summary>
    public Scenario ToScenario() => new(Preset, Overrides, Ops.Select(op => new ScenarioStep(op)).ToValueList());
}
