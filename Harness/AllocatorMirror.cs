using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Harness;

/// <summary>A request to an IOVA allocator in PFN units: <see cref="Pages"/> PFNs whose first
/// PFN is a multiple of <see cref="AlignPages"/> (a power of two), ending at or below
/// <see cref="LimitPfn"/> (inclusive).</summary>
public readonly record struct PfnRequest(ulong Pages, ulong AlignPages, ulong LimitPfn)
{
    public override string ToString() => $"{Pages:X} pages aligned {AlignPages:X} at or below PFN {LimitPfn:X}";
}

/// <summary>Why the model does not allow a range: the invariant it breaks (INV-01 overlap with
/// an allocation, INV-02 overlap with a reservation, INV-05 outside [start, limit], ALLOC
/// misaligned) and the model's sentence (in bytes).</summary>
public sealed record PfnRejection(string Invariant, string Reason);

/// <summary>
/// The reference model's IOVA allocation rules (<see cref="IovaSpace"/>) over one allocator's
/// space, in PFNs: the live allocations and reservations a caller has made, whether a range an
/// allocator returned is allowed, and whether any allowed range exists (completeness, INV-11).
/// An allocator-level checker (the conformance suite) goes through this instead of the model,
/// so it speaks PFNs and needs no DMA layer. Ranges an allocator keeps in its caches are free
/// here, as they are to the model. Requests must be well formed (pages ≥ 1, start ≤ limit ≤
/// <see cref="MaxPfn"/>); nothing here throws for a request that cannot fit.
/// </summary>
public sealed class AllocatorMirror
{
    private readonly DomainState _domain;
    private readonly SortedDictionary<ulong, (ulong Pages, IovaAllocation Allocation)> _live = [];
    private readonly List<(ulong Lo, ulong Hi)> _reserved = [];

    public AllocatorMirror(ulong startPfn, int granuleShift)
    {
        if (granuleShift is < 0 or > 32) throw new ArgumentOutOfRangeException(nameof(granuleShift), "granule shift must be 0..32");
        GranuleShift = granuleShift;
        MaxPfn = Math.Min(ulong.MaxValue >> granuleShift, ulong.MaxValue - 1);
        StartPfn = Math.Clamp(startPfn, 1, MaxPfn);
        _domain = new DomainState
        {
            Id = 1,
            Iommu = 0,
            Type = DomainType.Dma,
            Format = new PageTableGeometry
            {
                Format = PageTableFormatKind.VtdSecondStage,
                PageSizes = 1UL << granuleShift,
                InputBits = 64,
                OutputBits = 52,
                LevelBits = [9, 9, 9, 9],
            },
            Aperture = new AddrRange(0, ulong.MaxValue),
            Policy = IovaPolicy.SizeAligned,
            AllocStart = StartPfn << granuleShift,
        };
    }

    public ulong StartPfn { get; }
    public ulong MaxPfn { get; }
    public int GranuleShift { get; }

    /// <summary>Live allocations, by first PFN: (first PFN, pages).</summary>
    public IEnumerable<(ulong Pfn, ulong Pages)> Allocations => _live.Select(kv => (kv.Key, kv.Value.Pages));

    /// <summary>Reservations as they were made (they may overlap each other).</summary>
    public IReadOnlyList<(ulong Lo, ulong Hi)> Reservations => _reserved;

    public int AllocationCount => _live.Count;

    /// <summary>roundup_pow_of_two in PFNs, or 0 when it does not fit in 64 bits.</summary>
    public static ulong RoundUpPow2(ulong pages) => pages > 1UL << 63 ? 0 : IovaSpace.RoundUpPow2(pages);

    /// <summary>What alloc_iova_fast must allocate for <paramref name="pages"/>: the model's rule
    /// (below 32 granules the size rounds up to a power of two; always size-aligned).</summary>
    public PfnRequest FastRequest(ulong pages, ulong limitPfn)
    {
        ulong align = RoundUpPow2(pages);
        if (align == 0 || align > MaxPfn) return new PfnRequest(pages, align, limitPfn); // only PFN 0 is aligned: no fit
        var request = IovaSpace.RequestFor(_domain, pages << GranuleShift, LimitBytes(limitPfn), ulong.MaxValue);
        return new PfnRequest(request.Bytes >> GranuleShift, request.Alignment >> GranuleShift, limitPfn);
    }

    /// <summary>alloc_iova's request: no rounding; aligned to roundup_pow_of_two(pages), or to one PFN.</summary>
    public static PfnRequest TreeRequest(ulong pages, ulong limitPfn, bool sizeAligned) =>
        new(pages, sizeAligned ? RoundUpPow2(pages) : 1, limitPfn);

    /// <summary>Whether the model allows [pfn, pfn + pages − 1] as the answer to the request
    /// (null), or why not.</summary>
    public PfnRejection? Judge(ulong pfn, PfnRequest request)
    {
        if (request.AlignPages == 0 || request.AlignPages > MaxPfn)
            return new("ALLOC", $"no PFN but 0 is aligned to {AlignText(request)} pages, and PFN 0 is the failure value");
        if (pfn > MaxPfn || request.Pages - 1 > MaxPfn - pfn)
            return new("INV-05", $"[{pfn:X}..] runs past the last PFN of the space, {MaxPfn:X}");
        var why = IovaSpace.Judge(_domain, ToBytes(request), Bytes(pfn, request.Pages));
        return why is null ? null : new(why.Invariant, why.Reason);
    }

    /// <summary>The model's choice for the request (the highest allowed range), or null when
    /// no allowed range exists.</summary>
    public (ulong Lo, ulong Hi)? Fit(PfnRequest request)
    {
        if (request.AlignPages == 0 || request.AlignPages > MaxPfn || request.Pages == 0 || request.Pages > MaxPfn) return null;
        if (IovaSpace.HighestFit(_domain, ToBytes(request)) is not AddrRange fit) return null;
        return (fit.Start >> GranuleShift, fit.Last >> GranuleShift);
    }

    /// <summary>Records an allocation the caller accepted (after <see cref="Judge"/>).</summary>
    public void Allocated(ulong pfn, ulong pages)
    {
        var allocation = new IovaAllocation(Bytes(pfn, pages), AllocationOwner.Mapping);
        _domain.Allocations.Add(allocation);
        _live.Add(pfn, (pages, allocation));
    }

    /// <summary>Forgets the live allocation that starts at <paramref name="pfn"/>.</summary>
    public void Freed(ulong pfn)
    {
        if (!_live.Remove(pfn, out var live)) throw new ArgumentException($"no live allocation starts at PFN {pfn:X}", nameof(pfn));
        _domain.Allocations.Remove(live.Allocation);
    }

    public void Reserved(ulong lo, ulong hi)
    {
        _reserved.Add((lo, hi));
        _domain.Reserved.Add(new ReservedIova(Bytes(lo, hi - lo + 1), "reserved by the caller"));
    }

    /// <summary>The live allocation holding <paramref name="pfn"/>, if any.</summary>
    public (ulong Pfn, ulong Pages)? AllocationHolding(ulong pfn)
    {
        foreach (var (start, live) in _live)
        {
            if (start > pfn) break;
            if (pfn - start < live.Pages) return (start, live.Pages);
        }
        return null;
    }

    /// <summary>Whether any live allocation overlaps [lo, hi].</summary>
    public bool OverlapsAllocation(ulong lo, ulong hi) =>
        _live.Any(kv => kv.Key <= hi && lo <= kv.Key + (kv.Value.Pages - 1));

    /// <summary>Whether any reservation overlaps [lo, hi].</summary>
    public bool OverlapsReservation(ulong lo, ulong hi) => _reserved.Any(r => r.Lo <= hi && lo <= r.Hi);

    private IovaSpace.Request ToBytes(PfnRequest r) =>
        new(r.Pages << GranuleShift, r.AlignPages << GranuleShift, LimitBytes(r.LimitPfn), ulong.MaxValue);

    private AddrRange Bytes(ulong pfn, ulong pages) =>
        new(pfn << GranuleShift, ((pfn + pages - 1) << GranuleShift) | ((1UL << GranuleShift) - 1));

    private ulong LimitBytes(ulong limitPfn) => (limitPfn << GranuleShift) | ((1UL << GranuleShift) - 1);

    private static string AlignText(PfnRequest r) => r.AlignPages == 0 ? "2^64" : $"{r.AlignPages:X}";
}
