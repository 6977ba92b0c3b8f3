namespace DmaVerify.Properties;

/// <summary>The op kinds a sequence may use. Swarm testing (Groce et al.) enables a random
/// subset per sequence, so rare interactions get sequences where they are not drowned out.</summary>
[Flags]
public enum OpKinds
{
    None = 0,
    Map = 1 << 0,
    Unmap = 1 << 1,
    MapSg = 1 << 2,
    Coherent = 1 << 3,
    Resource = 1 << 4,
    Access = 1 << 5,
    Misuse = 1 << 6,
    Msi = 1 << 7,
    Flush = 1 << 8,
    Tick = 1 << 9,
    SetMask = 1 << 10,
    Domains = 1 << 11,

    /// <summary>Ops that make mappings; a swarm always holds at least one.</summary>
    Makers = Map | MapSg | Coherent | Resource,
    All = (1 << 12) - 1,
}
