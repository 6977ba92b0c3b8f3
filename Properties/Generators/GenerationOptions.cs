namespace DmaVerify.Properties;

/// <summary>How a run's cases are shaped.</summary>
public sealed record GenerationOptions
{
    /// <summary>Ops per unit of FsCheck size: a case at size s has 1 + s × this many ops.</summary>
    public int OpsPerSize { get; init; } = 2;
    /// <summary>How many generated devices may join the preset's own (0 = none).</summary>
    public int MaxExtraDevices { get; init; } = 2;
    /// <summary>Op kinds the swarm draws from; a case enables a random non-empty subset.</summary>
    public OpKinds Kinds { get; init; } = OpKinds.All;
    /// <summary>Draw swarm subsets (false: every case enables all of <see cref="Kinds"/>).</summary>
    public bool Swarm { get; init; } = true;
    /// <summary>Share of handle-using ops that name a raw bus address instead (misuse), in percent.</summary>
    public int RawAddressPercent { get; init; } = 5;
    /// <summary>Draw a free order and a long-lived share per case (false: random frees, no
    /// long-lived mappings).</summary>
    public bool Shapes { get; init; } = true;
    /// <summary>Weight of the aimed choices (maps that fill or just miss the gap the allocator
    /// fills next, buffers on a limit, iommu-maps against reserved ranges, accesses at a
    /// mapping's end) beside the uniform ones; 0 turns aiming off.</summary>
    public int AimWeight { get; init; } = 8;
}
