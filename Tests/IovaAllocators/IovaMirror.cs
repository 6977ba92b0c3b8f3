using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Tests.IovaAllocators;

/// <summary>
/// The model's view of an allocator under test: a size-aligned <see cref="DomainState"/> (4 KiB
/// granule) holding the live allocations and the reservations, so every allocation can be
/// judged by <see cref="IovaSpace.Judge"/> and every failure checked for completeness by
/// <see cref="IovaSpace.DefaultFit"/>. Ranges sitting in an allocator's caches are free here.
/// </summary>
internal sealed class IovaMirror
{
    public const int Shift = 12;

    public sealed record Live(ulong Pfn, ulong Pages, ulong Requested, bool Fast, IovaAllocation Allocation);

    public DomainState Domain { get; }
    private readonly Dictionary<ulong, Live> _live = [];
    private readonly List<ulong> _order = [];

    public IovaMirror(ulong startPfn)
    {
        Domain = new DomainState
        {
            Id = 1,
            Iommu = 0,
            Type = DomainType.Dma,
            Format = new PageTableGeometry
            {
                Format = PageTableFormatKind.VtdSecondStage,
                PageSizes = 0x1000 | 0x20_0000 | 0x4000_0000,
                InputBits = 64,
                OutputBits = 52,
                LevelBits = [9, 9, 9, 9],
            },
            Aperture = new AddrRange(0, ulong.MaxValue),
            Policy = IovaPolicy.SizeAligned,
            AllocStart = startPfn << Shift,
        };
    }

    public int LiveCount => _live.Count;
    public IEnumerable<Live> LiveRanges => _live.Values;

    public static AddrRange Bytes(ulong pfn, ulong pages) => new(pfn << Shift, ((pfn + pages - 1) << Shift) | 0xFFF);
    public static ulong LimitBytes(ulong limitPfn) => (limitPfn << Shift) | 0xFFF;

    /// <summary>What alloc_iova_fast must produce for <paramref name="pages"/>: the model's own request rule.</summary>
    public IovaSpace.Request FastRequest(ulong pages, ulong limitPfn) =>
        IovaSpace.RequestFor(Domain, pages << Shift, LimitBytes(limitPfn), ulong.MaxValue);

    /// <summary>alloc_iova's request: no rounding; aligned to the power-of-two round-up of the size, or to a granule.</summary>
    public static IovaSpace.Request TreeRequest(ulong pages, ulong limitPfn, bool sizeAligned) =>
        new(pages << Shift, (sizeAligned ? IovaSpace.RoundUpPow2(pages) : 1) << Shift, LimitBytes(limitPfn), ulong.MaxValue);

    public static ulong PagesOf(IovaSpace.Request r) => r.Bytes >> Shift;

    /// <summary>Judges a successful allocation and records it; throws with the reason if not allowed.</summary>
    public void Allocated(ulong pfn, IovaSpace.Request request, ulong requested, bool fast, string context)
    {
        Assert.True(pfn != 0, context);
        var range = Bytes(pfn, PagesOf(request));
        var why = IovaSpace.Judge(Domain, request, range);
        Assert.True(why is null, $"{context}: {range} for {request} is not allowed: {why?.Invariant} {why?.Reason}");
        var allocation = new IovaAllocation(range, AllocationOwner.Mapping);
        Domain.Allocations.Add(allocation);
        _live.Add(pfn, new Live(pfn, PagesOf(request), requested, fast, allocation));
        _order.Add(pfn);
    }

    /// <summary>The model's fit for a request that the allocator refused (null = refusal was right).</summary>
    public AddrRange? FitFor(IovaSpace.Request request) => IovaSpace.DefaultFit(Domain, request);

    public Live? PickLive(Random rng) => _order.Count == 0 ? null : _live[_order[rng.Next(_order.Count)]];

    public void Freed(Live live)
    {
        _live.Remove(live.Pfn);
        _order.Remove(live.Pfn);
        Domain.Allocations.Remove(live.Allocation);
    }

    public bool OverlapsLive(ulong lo, ulong hi)
    {
        var r = Bytes(lo, hi - lo + 1);
        return Domain.Allocations.Any(a => a.Range.Overlaps(r));
    }

    public void Reserved(ulong lo, ulong hi) =>
        Domain.Reserved.Add(new ReservedIova(Bytes(lo, hi - lo + 1), "test reservation"));
}
