namespace DmaVerify.Fuzz.Decoding;

/// <summary>The op kinds a record can decode to (one per <see cref="Model.Op"/> record type).</summary>
public enum OpKind
{
    Map, Unmap, MapSg, UnmapSg, AllocCoherent, FreeCoherent, MapResource, UnmapResource,
    IommuMap, IommuUnmap, DeviceAccess, SetupMsi, Flush, Tick, AllocDomain, Attach, SetDomainType, SetMask,
}

/// <summary>The kind byte picks from a 32-entry table in which the DMA-API hot path (map, unmap,
/// device access) appears more often than the rare ops, so random bytes make useful sequences.</summary>
public static class OpKinds
{
    public static readonly OpKind[] Table =
    [
        OpKind.Map, OpKind.Map, OpKind.Map, OpKind.Map, OpKind.Unmap, OpKind.Unmap, OpKind.Unmap, OpKind.MapSg,
        OpKind.MapSg, OpKind.UnmapSg, OpKind.UnmapSg, OpKind.AllocCoherent, OpKind.FreeCoherent, OpKind.MapResource, OpKind.UnmapResource, OpKind.DeviceAccess,
        OpKind.DeviceAccess, OpKind.DeviceAccess, OpKind.IommuMap, OpKind.IommuUnmap, OpKind.SetupMsi, OpKind.Flush, OpKind.Tick, OpKind.AllocDomain,
        OpKind.Attach, OpKind.SetDomainType, OpKind.SetMask, OpKind.Map, OpKind.DeviceAccess, OpKind.Unmap, OpKind.Flush, OpKind.Tick,
    ];

    public static OpKind FromByte(byte b) => Table[b & (Table.Length - 1)];

    /// <summary>The smallest kind byte that decodes to <paramref name="kind"/> (what encoders write).</summary>
    public static byte ToByte(OpKind kind) => (byte)Array.IndexOf(Table, kind);

    public static int Count => Enum.GetValues<OpKind>().Length;
}
