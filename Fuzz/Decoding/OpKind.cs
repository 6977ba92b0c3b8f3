namespace DmaVerify.Fuzz.Decoding;

/// <summary>The op kinds a record can decode to (one per <see cref="Model.Op"/> record type); which
/// kind byte names which kind is a table of the input's format version (<see cref="FuzzFormat"/>).</summary>
public enum OpKind
{
    Map, Unmap, MapSg, UnmapSg, AllocCoherent, FreeCoherent, MapResource, UnmapResource,
    IommuMap, IommuUnmap, DeviceAccess, SetupMsi, Flush, Tick, AllocDomain, Attach, SetDomainType, SetMask,
}
