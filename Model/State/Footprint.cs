using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>
/// What one op touched, as the model's state helpers record it: devices, domains and the IOVA
/// ranges of their allocations, leaves and cached walks, mappings and bounce slots added or
/// removed. The incremental invariant checker judges exactly this part of the state.
/// </summary>
public sealed class Footprint
{
    public sealed class DomainTouch
    {
        /// <summary>Settings: its own fields (type, timer, counters). Members: the devices attached to it.</summary>
        public bool Created, Settings, Members, Reserved, FlushQueue, MsiPages;
        /// <summary>The whole IOTLB may have changed (a flush or a detach), not only <see cref="IotlbRanges"/>.</summary>
        public bool WholeIotlb;
        public readonly List<AddrRange> AllocationRanges = [];
        public readonly List<AddrRange> LeafRanges = [];
        public readonly List<AddrRange> IotlbRanges = [];
        public readonly HashSet<int> IotlbIommus = [];
    }

    public readonly HashSet<int> Devices = [];
    public readonly Dictionary<int, DomainTouch> Domains = [];
    public readonly HashSet<int> MappingsAdded = [];
    public readonly HashSet<int> MappingsRemoved = [];
    public readonly HashSet<int> BouncesAdded = [];
    public readonly HashSet<int> BouncesRemoved = [];
    public bool Time;

    public bool IsEmpty => Devices.Count == 0 && Domains.Count == 0 && MappingsAdded.Count == 0 && MappingsRemoved.Count == 0 &&
                           BouncesAdded.Count == 0 && BouncesRemoved.Count == 0 && !Time;

    public DomainTouch Domain(int id)
    {
        if (!Domains.TryGetValue(id, out var touch)) Domains[id] = touch = new DomainTouch();
        return touch;
    }

    public void Clear()
    {
        Devices.Clear();
        Domains.Clear();
        MappingsAdded.Clear();
        MappingsRemoved.Clear();
        BouncesAdded.Clear();
        BouncesRemoved.Clear();
        Time = false;
    }

    public override string ToString() =>
        $"devices [{string.Join(",", Devices)}] domains [{string.Join(",", Domains.Keys)}] mappings +[{string.Join(",", MappingsAdded)}] -[{string.Join(",", MappingsRemoved)}] " +
        $"bounces +[{string.Join(",", BouncesAdded)}] -[{string.Join(",", BouncesRemoved)}]{(Time ? " time" : "")}";
}
