using DmaVerify.Contracts;

namespace DmaVerify.Model;

public static partial class InvariantChecker
{
    private static bool IsDone(DomainState domain, FlushQueueEntry entry) => domain.FlushFinished > entry.Counter;

    /// <summary>
    /// INV-08 on a state: IOTLB entries agree with the page table (same translation and prot)
    /// in strict domains (Dma, Unmanaged; a Blocked domain caches nothing, an Identity domain
    /// only identity walks); in a DmaFq domain a disagreeing entry must lie inside a flush-queue
    /// allocation whose queue entry has not been covered by a finished flush. The flush queue
    /// holds exactly what it should: no entry already covered by a finished flush is still held
    /// (leak), every pending entry's IOVA is still held by a FlushQueue allocation, every
    /// FlushQueue allocation has a pending entry, and no live Mapping/MsiPage allocation
    /// overlaps a pending entry (reuse before the flush).
    /// </summary>
    private static void CheckStaleState(CheckContext c, List<Violation> output)
    {
        foreach (var domain in c.JudgedDomains)
        {
            var queue = CheckContext.NonNull(domain.FlushQueue);
            var pending = queue.Where(e => !IsDone(domain, e)).ToList();
            var allocations = c.AllocationsOf(domain);
            var fqAllocations = allocations.Where(a => a.Owner == AllocationOwner.FlushQueue).ToList();

            foreach (var e in queue.Where(e => IsDone(domain, e)))
                output.Add(new Violation(Inv08, null, e.Iova,
                    $"domain {domain.Id}: flush-queue entry {e.Iova} (counter {e.Counter}) was covered by a finished flush (finish count {domain.FlushFinished}) but is still held: leaked IOVA"));
            foreach (var e in pending)
                if (!fqAllocations.Any(a => a.Range.Contains(e.Iova)))
                    output.Add(new Violation(Inv08, null, e.Iova,
                        $"domain {domain.Id}: {e.Iova} waits in the flush queue but no FlushQueue allocation holds it, so it can be reused before the flush"));
            foreach (var a in fqAllocations)
                if (!pending.Any(e => e.Iova.Overlaps(a.Range)))
                    output.Add(new Violation(Inv08, null, a.Range,
                        $"domain {domain.Id}: FlushQueue allocation {a.Range} has no pending flush-queue entry, so it is never released: leaked IOVA"));
            foreach (var a in allocations.Where(a => a.Owner != AllocationOwner.FlushQueue))
                foreach (var e in pending.Where(e => e.Iova.Overlaps(a.Range)))
                    output.Add(new Violation(Inv08, c.DeviceUsing(domain, a.Range), a.Range.Intersect(e.Iova),
                        $"domain {domain.Id}: {a.Owner} allocation {a.Range} reuses {e.Iova} before a flush that started after its unmap has finished"));

            CheckIotlb(c, domain, fqAllocations, pending, output);
        }
    }

    private static void CheckIotlb(CheckContext c, DomainState domain, List<IovaAllocation> fqAllocations,
        List<FlushQueueEntry> pending, List<Violation> output)
    {
        var leaves = c.LeavesOf(domain);
        foreach (var entry in CheckContext.NonNull(domain.Iotlb))
        {
            string what = $"domain {domain.Id}: IOTLB entry of IOMMU {entry.Iommu} {Hex.Format(entry.Iova)}->{Hex.Format(entry.Phys)}+{Hex.Format(entry.Size)} {entry.Prot}";
            if (!CheckContext.TryRange(entry.Iova, entry.Size, out var range))
            {
                output.Add(new Violation(Inv08, null, null, $"{what} is empty or wraps past 2^64"));
                continue;
            }
            switch (domain.Type)
            {
                case DomainType.Blocked:
                    output.Add(new Violation(Inv08, null, range, $"{what}: a blocked domain translates nothing, so nothing may be cached"));
                    break;
                case DomainType.Identity:
                    if (entry.Iova != entry.Phys)
                        output.Add(new Violation(Inv08, null, range, $"{what}: an identity domain can only cache identity walks"));
                    break;
                case DomainType.DmaFq:
                    if (!AgreesWithLeaves(leaves, entry, range) &&
                        !fqAllocations.Any(a => a.Range.Contains(range) && pending.Any(e => e.Iova.Overlaps(a.Range))))
                        output.Add(new Violation(Inv08, null, range,
                            $"{what} disagrees with the page table and is not inside an IOVA range waiting for a flush"));
                    break;
                default: // Dma, Unmanaged: strict
                    if (!AgreesWithLeaves(leaves, entry, range))
                        output.Add(new Violation(Inv08, null, range,
                            $"{what} disagrees with the page table of a strict domain (stale after unmap)"));
                    break;
            }
        }
    }

    private static bool AgreesWithLeaves(LeafIndex leaves, IotlbEntry entry, AddrRange range)
    {
        foreach (var (_, leaf) in leaves.Walk(range))
            if (leaf is null || !LeafIndex.SameTranslation(leaf, entry.Iova, entry.Phys) || leaf.Prot != entry.Prot)
                return false;
        return true;
    }

    /// <summary>
    /// INV-08 on a step: a successful device access reached only what `before` allowed. In a
    /// strict paging domain every chunk inside the aperture is backed by a leaf with that
    /// translation and the access's permission; in a DmaFq domain by such a leaf or by an IOTLB
    /// entry of the device's IOMMU. Untranslated paths are allowed where the hardware has
    /// them: hardware MSI windows (dma == phys), the GART's bypass outside its aperture
    /// (dma == phys) and the TCE dynamic DMA window (dma == phys + offset, below the limit).
    /// </summary>
    private static void CheckStaleAccess(CheckContext before, Op op, Outcome outcome, List<Violation> output)
    {
        if (op is not DeviceAccess access || outcome is not Accessed accessed) return;
        var domain = before.Domain(before.Device(access.Device)?.Domain);
        if (domain is null || !domain.IsPaging) return;
        Prot needed = access.Write ? Prot.Write : Prot.Read;
        var leaves = before.LeavesOf(domain);
        var iommu = before.IommuOfDevice(access.Device);
        var msiWindows = before.RegionsOf(domain).Where(r => r.Type == ReservedRegionType.Msi).Select(r => r.Range).ToList();
        var tlb = domain.Type == DomainType.DmaFq
            ? CheckContext.NonNull(domain.Iotlb).Where(e => e.Iommu == iommu?.Id && CheckContext.TryRange(e.Iova, e.Size, out _)).ToList()
            : [];

        foreach (var chunk in CheckContext.NonNull(accessed.Chunks))
        {
            if (chunk.Length == 0) continue;
            if (!CheckContext.TryRange(chunk.Dma, chunk.Length, out var range))
            {
                output.Add(new Violation(Inv08, access.Device, null, $"access chunk {chunk} wraps past 2^64"));
                continue;
            }
            // One chunk may run across the aperture's edge or into an MSI window (the device's
            // bytes stay contiguous there); each piece is judged by the rule of where it lies.
            foreach (var (piece, where) in AccessPieces(range, domain.Aperture, msiWindows))
            {
                var sub = new AccessChunk(piece.Start, new PhysAddr(unchecked(chunk.Phys.Value + (piece.Start - chunk.Dma))), (ulong)piece.Size);
                if (where == AccessPlace.MsiWindow && sub.Dma == sub.Phys.Value) continue;
                if (where == AccessPlace.OutsideAperture)
                {
                    if (!UntranslatedPathAllows(iommu, sub, piece))
                        output.Add(new Violation(Inv08, access.Device, piece,
                            $"access chunk {chunk} lies outside the aperture {domain.Aperture} of domain {domain.Id} at {piece} and no untranslated path reaches that phys"));
                    continue;
                }
                foreach (var (leafPiece, leaf) in leaves.Walk(piece))
                {
                    bool backed = leaf is not null && LeafIndex.SameTranslation(leaf, chunk.Dma, chunk.Phys.Value) && (leaf.Prot & needed) != 0;
                    if (!backed && new RangeUnion(CachedWalks(tlb, chunk, needed)).Covers(leafPiece)) backed = true;
                    if (!backed)
                    {
                        string why = leaf is null ? "has no leaf"
                            : !LeafIndex.SameTranslation(leaf, chunk.Dma, chunk.Phys.Value) ? $"is mapped elsewhere by leaf {leaf}"
                            : $"lacks {needed} permission in leaf {leaf}";
                        output.Add(new Violation(Inv08, access.Device, leafPiece,
                            $"{(access.Write ? "write" : "read")} access {chunk} reached phys, but in domain {domain.Id} ({domain.Type}) {leafPiece} {why} before the access: stale or invented translation"));
                        break;
                    }
                }
            }
        }
    }

    internal enum AccessPlace { InsideAperture, OutsideAperture, MsiWindow }

    /// <summary>An access range cut where the rule that judges it changes: at the edges of the
    /// domain's aperture and of the hardware MSI windows. Pieces in order, covering the range.</summary>
    internal static List<(AddrRange Piece, AccessPlace Where)> AccessPieces(AddrRange range, AddrRange aperture, IReadOnlyList<AddrRange> msiWindows)
    {
        var cuts = new SortedSet<UInt128> { (UInt128)range.Last + 1 };
        void Cut(UInt128 at) { if (at > range.Start && at <= range.Last) cuts.Add(at); }
        Cut(aperture.Start);
        Cut((UInt128)aperture.Last + 1);
        foreach (var w in msiWindows)
        {
            Cut(w.Start);
            Cut((UInt128)w.Last + 1);
        }
        var pieces = new List<(AddrRange, AccessPlace)>(cuts.Count);
        UInt128 start = range.Start;
        foreach (var at in cuts)
        {
            Add(new AddrRange((ulong)start, (ulong)(at - 1)));
            start = at;
        }
        return pieces;

        void Add(AddrRange piece) => pieces.Add((piece,
            msiWindows.Any(w => w.Contains(piece)) ? AccessPlace.MsiWindow
            : aperture.Contains(piece) ? AccessPlace.InsideAperture : AccessPlace.OutsideAperture));
    }

    /// <summary>IOVA ranges of the cached walks that translate like the chunk and allow the access.</summary>
    private static IEnumerable<AddrRange> CachedWalks(List<IotlbEntry> tlb, AccessChunk chunk, Prot needed) =>
        tlb.Where(e => unchecked(e.Phys - e.Iova) == unchecked(chunk.Phys.Value - chunk.Dma) && (e.Prot & needed) != 0)
            .Select(e => AddrRange.FromLength(e.Iova, e.Size));

    private static bool UntranslatedPathAllows(IommuConfig? iommu, AccessChunk chunk, AddrRange range)
    {
        if (iommu?.Gart is not null)
            return chunk.Dma == chunk.Phys.Value && !range.Overlaps(iommu.Gart.Aperture);
        if (iommu?.Tce is { } tce)
            return chunk.Dma >= tce.DdwOffset && chunk.Phys.Value <= ulong.MaxValue - tce.DdwOffset &&
                   chunk.Dma == chunk.Phys.Value + tce.DdwOffset && range.End <= DirectLimit(tce);
        return false;
    }
}
