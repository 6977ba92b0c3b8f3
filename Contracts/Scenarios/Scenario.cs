namespace DmaVerify.Contracts;

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
            error = WhyInvalid(d, platform) ?? "";
            if (error.Length > 0) return false;
            devices[d.Id] = d;
        }
        platform = platform with { Devices = devices.Values.OrderBy(d => d.Id).ToArray() };
        return true;
    }

    /// <summary>What is wrong with a device override, or null.</summary>
    public static string? WhyInvalid(DeviceConfig d, PlatformConfig platform)
    {
        if (d.Id < 0) return $"device id {d.Id} is negative";
        if (d.Iommu is int i && platform.Iommu(i) is null)
            return $"device {d.Id} names IOMMU {i}, which preset '{platform.Preset}' does not have";
        if (!DeviceConfig.IsValidMask(d.DmaMask)) return $"device {d.Id}: mask {Hex.Format(d.DmaMask)} is not DMA_BIT_MASK(n) with 24 ≤ n ≤ 64";
        if (!DeviceConfig.IsValidMask(d.CoherentMask)) return $"device {d.Id}: coherent mask {Hex.Format(d.CoherentMask)} is not DMA_BIT_MASK(n) with 24 ≤ n ≤ 64";
        if ((d.SegmentBoundaryMask & (d.SegmentBoundaryMask + 1)) != 0 || d.SegmentBoundaryMask < 0xFFF)
            return $"device {d.Id}: segment boundary mask {Hex.Format(d.SegmentBoundaryMask)} must be 2^n - 1 and at least 0xFFF";
        if (d.MaxSegmentSize < 0x1000) return $"device {d.Id}: max segment size {Hex.Format(d.MaxSegmentSize)} is below 4 KiB";
        if (d.Untrusted && d.BypassesIommu) return $"device {d.Id} cannot be both untrusted and a virtio device that bypasses the IOMMU";
        return null;
    }

    public PlatformConfig BuildPlatform() =>
        TryBuildPlatform(out var p, out var error) ? p : throw new ArgumentException(error);
}
