namespace DmaVerify.Contracts;

/// <summary>
/// A snapshot of a whole DMA/IOMMU system in a form any system can produce: the reference model
/// keeps its state in exactly these types, and an implementation exports them so the same
/// invariant checker (INV-01…INV-15) runs on both. Tests build states by hand.
/// Collections are mutable for the model's convenience; <see cref="Clone"/> gives an
/// independent copy (used for before/after checks of failure atomicity).
/// </summary>
public sealed class SystemState
{
    public required PlatformConfig Platform { get; init; }
    public ulong NowMs { get; set; }
    public List<DeviceState> Devices { get; init; } = [];
    public List<DomainState> Domains { get; init; } = [];
    /// <summary>Live DMA-API mappings (dma-debug entries), in creation order. A device's
    /// <see cref="LiveRef"/> indexes its own mappings in this order.</summary>
    public List<DmaMapping> Mappings { get; init; } = [];
    public List<BounceSlot> Bounces { get; init; } = [];

    public DeviceState? Device(int id) => Devices.FirstOrDefault(d => d.Id == id);
    public DomainState? Domain(int id) => Domains.FirstOrDefault(d => d.Id == id);
    public IEnumerable<DmaMapping> MappingsOf(int device) => Mappings.Where(m => m.Device == device);
    public IEnumerable<DeviceState> DevicesIn(int domain) => Devices.Where(d => d.Domain == domain);

    public SystemState Clone() => new()
    {
        Platform = Platform,
        NowMs = NowMs,
        Devices = Devices.Select(d => d.Clone()).ToList(),
        Domains = Domains.Select(d => d.Clone()).ToList(),
        Mappings = Mappings.Select(m => m.Clone()).ToList(),
        Bounces = Bounces.Select(b => b with { }).ToList(),
    };
}

/// <summary>A device's run-time DMA state.</summary>
public sealed class DeviceState
{
    public required int Id { get; init; }
    public ulong DmaMask { get; set; }
    public ulong CoherentMask { get; set; }
    /// <summary>bus_dma_limit, 0 = none. On PowerPC a direct DDW sets it to the window limit.</summary>
    public ulong BusDmaLimit { get; set; }
    /// <summary>Domain the device is attached to; null for devices without an IOMMU.</summary>
    public int? Domain { get; set; }
    /// <summary>pci_32bit_workaround: still trying IOVAs below 4 GiB first.</summary>
    public bool Pci32First { get; set; }
    /// <summary>PowerPC: a direct dynamic DMA window is active for this device.</summary>
    public bool DdwActive { get; set; }

    public DeviceState Clone() => (DeviceState)MemberwiseClone();
}

/// <summary>How a domain's IOVA allocator places ranges.</summary>
public enum IovaPolicy
{
    /// <summary>dma-iommu: size rounded to a power of two below 32 granules, aligned to the
    /// power-of-two round-up of the size, inside [start, limit].</summary>
    SizeAligned,
    /// <summary>GART and TCE bitmap allocators: granule aligned, must not cross the device's
    /// segment boundary.</summary>
    PageGranular,
}

/// <summary>Why a range of IOVA space is occupied.</summary>
public enum AllocationOwner { Mapping, MsiPage, FlushQueue }

public sealed record IovaAllocation(AddrRange Range, AllocationOwner Owner);

/// <summary>A range of IOVA space no allocation may use, with its reason (region, PCI window).</summary>
public sealed record ReservedIova(AddrRange Range, string Reason);

/// <summary>A page-table leaf: [Iova, Iova+Size) → [Phys, Phys+Size) with Prot.</summary>
public sealed record Leaf(ulong Iova, ulong Phys, ulong Size, Prot Prot)
{
    public AddrRange Range => AddrRange.FromLength(Iova, Size);
    public override string ToString() => $"{Hex.Format(Iova)}->{Hex.Format(Phys)}+{Hex.Format(Size)} {Prot}";
}

/// <summary>A cached walk in one IOMMU's IOTLB, tagged with the domain it was walked in.</summary>
public sealed record IotlbEntry(int Iommu, ulong Iova, ulong Phys, ulong Size, Prot Prot)
{
    public AddrRange Range => AddrRange.FromLength(Iova, Size);
}

/// <summary>An unmapped IOVA range waiting in the flush queue; reusable once a flush that
/// started after <see cref="Counter"/> was taken has finished (finish count &gt; counter).</summary>
public sealed record FlushQueueEntry(AddrRange Iova, ulong Counter);

/// <summary>An MSI doorbell page mapped into a domain (software-managed MSI).</summary>
public sealed record MsiPage(ulong DoorbellPage, ulong Iova);

/// <summary>One translation context and its IOVA space.</summary>
public sealed class DomainState
{
    public required int Id { get; init; }
    /// <summary>The IOMMU that created the domain (devices of other IOMMUs of the same
    /// format may share it).</summary>
    public required int Iommu { get; init; }
    public required DomainType Type { get; set; }
    public required PageTableGeometry Format { get; init; }
    public required AddrRange Aperture { get; init; }
    public bool ForceAperture { get; init; } = true;
    public IovaPolicy Policy { get; init; } = IovaPolicy.SizeAligned;
    /// <summary>Lowest allocatable IOVA (dma-iommu never hands out IOVA 0).</summary>
    public ulong AllocStart { get; init; }
    /// <summary>Created as a device's default domain (as opposed to AllocDomain).</summary>
    public bool IsDefault { get; init; }

    public List<IovaAllocation> Allocations { get; init; } = [];
    public List<ReservedIova> Reserved { get; init; } = [];
    /// <summary>Leaves keyed by IOVA.</summary>
    public SortedList<ulong, Leaf> Leaves { get; init; } = [];
    public List<IotlbEntry> Iotlb { get; init; } = [];
    public List<FlushQueueEntry> FlushQueue { get; init; } = [];
    public ulong FlushStarted { get; set; }
    public ulong FlushFinished { get; set; }
    /// <summary>Flush-queue timer deadline (ms) when armed.</summary>
    public ulong? TimerDeadline { get; set; }
    public List<MsiPage> MsiPages { get; init; } = [];
    /// <summary>Next IOVA of the software-MSI bump allocator (unmanaged domains).</summary>
    public ulong MsiBump { get; set; }
    /// <summary>Table pages an implementation holds, and those waiting for a flush before
    /// they may be freed; null when the system does not model table pages (the model).</summary>
    public int? TablePages { get; set; }
    public int? PendingFreeTablePages { get; set; }

    public ulong Granule => Format.Granule;
    public bool IsPaging => Type.IsPaging;
    public bool IsDmaApi => Type.IsDmaApi;

    public DomainState Clone()
    {
        var c = (DomainState)MemberwiseClone();
        return new DomainState
        {
            Id = Id, Iommu = Iommu, Type = Type, Format = Format, Aperture = Aperture,
            ForceAperture = ForceAperture, Policy = Policy, AllocStart = AllocStart, IsDefault = IsDefault,
            Allocations = [.. Allocations], Reserved = [.. Reserved], Leaves = new SortedList<ulong, Leaf>(Leaves),
            Iotlb = [.. Iotlb], FlushQueue = [.. FlushQueue], FlushStarted = c.FlushStarted,
            FlushFinished = c.FlushFinished, TimerDeadline = c.TimerDeadline, MsiPages = [.. MsiPages],
            MsiBump = c.MsiBump, TablePages = c.TablePages, PendingFreeTablePages = c.PendingFreeTablePages,
        };
    }
}

/// <summary>
/// One piece of a live mapping as the device sees it: bus bytes [Dma, Dma+Length) must reach
/// physical bytes [Phys, Phys+Length) (INV-06). Translated pieces name their domain and IOVA
/// allocation; bypass pieces have neither.
/// </summary>
public sealed record MappingPart
{
    public required ulong Dma { get; init; }
    public required ulong Length { get; init; }
    public required ulong Phys { get; init; }
    /// <summary>Domain whose page table translates this piece; null for bypass (dma-direct,
    /// identity domain, GART/DDW bypass, virtio without ACCESS_PLATFORM).</summary>
    public int? Domain { get; init; }
    /// <summary>The IOVA allocation the piece lives in (shared by all parts of one sg map).</summary>
    public AddrRange? Allocation { get; init; }
    /// <summary>Id of the swiotlb slot the piece was bounced through, if any.</summary>
    public int? Bounce { get; init; }
    public bool IsBypass => Domain is null;
}

/// <summary>A live DMA-API mapping (a dma-debug entry).</summary>
public sealed class DmaMapping
{
    public required int Id { get; init; }
    public required int Device { get; init; }
    public required MappingKind Kind { get; init; }
    /// <summary>The handle the driver got (first output segment for sg).</summary>
    public required DmaAddr Dma { get; init; }
    /// <summary>Bytes the driver asked for (sum of input lengths for sg).</summary>
    public required ulong Size { get; init; }
    public required DmaDirection Direction { get; init; }
    public required PhysAddr Phys { get; init; }
    public int Nents { get; init; } = 1;
    /// <summary>The DMA limit that applied when the mapping was made (mask, bus limit, aperture).</summary>
    public required ulong Limit { get; init; }
    public bool UntrustedDevice { get; init; }
    public ValueList<SgEntry> Inputs { get; init; } = ValueList<SgEntry>.Empty;
    public ValueList<DmaSegment> Segments { get; init; } = ValueList<DmaSegment>.Empty;
    public required List<MappingPart> Parts { get; init; }
    public ulong MaxSegmentSize { get; init; } = ulong.MaxValue;
    public ulong SegmentBoundaryMask { get; init; } = ulong.MaxValue;

    public DmaMapping Clone()
    {
        var c = (DmaMapping)MemberwiseClone();
        return new DmaMapping
        {
            Id = Id, Device = Device, Kind = Kind, Dma = Dma, Size = Size, Direction = Direction,
            Phys = Phys, Nents = Nents, Limit = Limit, UntrustedDevice = UntrustedDevice, Inputs = Inputs,
            Segments = Segments, Parts = [.. Parts], MaxSegmentSize = c.MaxSegmentSize,
            SegmentBoundaryMask = c.SegmentBoundaryMask,
        };
    }
}

/// <summary>A live swiotlb bounce slot. <see cref="Slot"/> is the whole span owned (whole
/// granules for an untrusted device's bounce); the buffer copy sits at <see cref="BufferPhys"/>;
/// the rest of the slot is padding, which must be zero for untrusted devices (INV-12).</summary>
public sealed record BounceSlot(int Id, int Device, AddrRange Slot, ulong OrigPhys, ulong BufferPhys, ulong Length, bool PaddingZeroed);
