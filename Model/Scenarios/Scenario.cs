namespace DmaVerify.Model;

/// <summary>One op of a scenario and, optionally, the outcome recorded for it (written as a
/// comment after the op in the text form).</summary>
public sealed record ScenarioStep(Op Op, Outcome? Expected = null);

/// <summary>
/// A scenario: a platform preset, optional device overrides (replace the preset's device with
/// the same id, or add one), and a list of ops. This is what regression files, counterexamples
/// and `verify replay` speak. <see cref="BuildPlatform"/> resolves it to a platform.
/// </summary>
public sealed record Scenario(string Preset, ValueList<DeviceConfig> Devices, ValueList<ScenarioStep> Steps)
{
    public Scenario(string preset, IEnumerable<Op> ops)
        : this(preset, ValueList<DeviceConfig>.Empty, ops.Select(o => new ScenarioStep(o)).ToValueList()) { }

    public bool TryBuildPlatform(out PlatformConfig platform, out string error)
    {
        if (!Presets.TryGet(Preset, out platform, out error)) return false;
        if (Devices.Count == 0) return true;
        var devices = platform.Devices.ToDictionary(d => d.Id);
        foreach (var d in Devices)
        {
            if (d.Iommu is int i && platform.Iommu(i) is null)
            {
                error = $"device {d.Id} names IOMMU {i}, which preset '{Preset}' does not have";
                return false;
            }
            devices[d.Id] = d;
        }
        platform = platform with { Devices = devices.Values.OrderBy(d => d.Id).ToArray() };
        return true;
    }

    public PlatformConfig BuildPlatform() =>
        TryBuildPlatform(out var p, out var error) ? p : throw new ArgumentException(error);
}
