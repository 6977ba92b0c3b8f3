using DmaVerify.Contracts;

namespace DmaVerify.Model;

public static partial class IncrementalChecker
{
    /// <summary>The state invariants on one footprint: devices, domains (their allocations,
    /// leaves, cached walks and flush queue in the touched ranges), mappings and bounce slots.</summary>
    private sealed class Scope(ModelState before, ModelState after, Footprint footprint)
    {
        /// <summary>Live mappings whose translation runs through a touched IOVA range.</summary>
        private readonly HashSet<int> _translationOnly = [];

        private PlatformIndex Platform => after.Platform;

        // ----- devices -----

        public void CheckDevices(List<Violation> output)
        {
            foreach (int id in footprint.Devices)
            {
                if (after.Device(id) is not { } dev) continue;
                var config = Platform.Device(id);
                if (dev.Domain is int domainId)
                {
                    if (after.Domain(domainId) is null)
                        output.Add(new Violation(Inv07, id, null, $"device {id} is attached to domain {domainId}, which does not exist"));
                    if (config is { Iommu: null })
                        output.Add(new Violation(Inv07, id, null, $"device {id} sits behind no IOMMU but is attached to domain {domainId}"));
                }
                if (config is { BypassesIommu: true } && after.DomainOf(dev) is { } domain && domain.Type != DomainType.Identity)
                    output.Add(new Violation(Inv13, id, null,
                        $"device {id} uses physical addresses (virtio without ACCESS_PLATFORM) but is attached to {domain.Type} domain {domain.Id}, which translates them"));
                if (before.Device(id)?.Domain != dev.Domain)
                    foreach (var m in after.MappingsOf(id))
                        foreach (var part in m.Parts)
                            if (part.Domain is int pd && pd != dev.Domain)
                                output.Add(new Violation(Inv07, id, RangeOf(part.Dma, part.Length),
                                    $"mapping {m.Id}: part is translated by domain {pd}, but device {id} is attached to {(dev.Domain is int d ? $"domain {d}" : "no domain")}"));
            }
        }

        // ----- domains -----

        public void CheckDomains(List<Violation> output)
        {
            foreach (var (id, touch) in footprint.Domains)
            {
                if (after.Domain(id) is not { } domain) continue;
                var regions = RegionsOf(after, domain);
                var windows = PciWindowsOf(after, domain);
                bool membership = touch.Members || touch.Created;

                var allocationRanges = new List<AddrRange>(touch.AllocationRanges);
                var leafRanges = new List<AddrRange>(touch.LeafRanges);
                if (membership || touch.Reserved)
                {
                    // The regions, windows and reserved ranges that now bind the domain.
                    foreach (var r in regions) { allocationRanges.Add(r.Range); leafRanges.Add(r.Range); }
                    allocationRanges.AddRange(windows);
                    foreach (var r in domain.Reserved) allocationRanges.Add(r.Range);
                }

                var seenAllocations = new HashSet<ulong>();
                foreach (var range in allocationRanges)
                {
                    foreach (var e in domain.Occupied.Overlapping(range))
                        if (e.Value is AllocationOwner owner && seenAllocations.Add(e.Start))
                            CheckAllocation(domain, e.Range, owner, regions, windows, output);
                    foreach (var user in domain.Users.Overlapping(range))
                        CheckUser(domain, user.Range, user.Value, output);
                }

                var seenRuns = new HashSet<ulong>();
                foreach (var range in leafRanges)
                {
                    foreach (var e in domain.Leaves.Overlapping(range))
                        if (seenRuns.Add(e.Start))
                            CheckRun(domain, e.Value, regions, output);
                    foreach (var user in domain.Users.Overlapping(range))
                        _translationOnly.Add(user.Value);
                }
                CheckDirectRegions(domain, regions, leafRanges, membership, output);
                CheckIotlb(domain, touch, allocationRanges, leafRanges, output);
                if (touch.FlushQueue || touch.Settings) CheckFlushQueue(domain, output);
                if (membership) CheckSharing(domain, output);
            }
        }

        private void CheckAllocation(ModelDomain domain, AddrRange a, AllocationOwner owner, List<ReservedRegion> regions, List<AddrRange> windows, List<Violation> output)
        {
            int? device = domain.Users.TryFindContaining(a.Start, out var u) ? after.Mapping(u.Value)?.Device : null;
            // INV-01 / INV-02: the neighbours in start order must not reach into it.
            if (a.Start > 0 && domain.Occupied.TryFloor(a.Start - 1, out var pred) && pred.Last >= a.Start)
                output.Add(Neighbour(domain, a, owner, pred, device));
            if (a.Start < ulong.MaxValue && domain.Occupied.TryCeiling(a.Start + 1, out var succ) && succ.Start <= a.Last)
                output.Add(Neighbour(domain, a, owner, succ, device));
            foreach (var region in regions)
                if (region.IsReservedInIovaSpace && a.Overlaps(region.Range))
                    output.Add(new Violation(Inv02, device, a.Intersect(region.Range),
                        $"domain {domain.Id}: {owner} allocation {a} overlaps the {region.Type} region {region.Range}"));
            foreach (var window in windows)
                if (a.Overlaps(window))
                    output.Add(new Violation(Inv02, device, a.Intersect(window),
                        $"domain {domain.Id}: {owner} allocation {a} overlaps the PCI host-bridge window {window}"));
            foreach (var r in domain.Reserved)
                if (a.Overlaps(r.Range))
                    output.Add(new Violation(Inv02, device, a.Intersect(r.Range),
                        $"domain {domain.Id}: {owner} allocation {a} overlaps reserved IOVA {r.Range} ({r.Reason})"));
            // INV-08: what waits for a flush is held, and nothing else reuses it.
            bool pending = domain.FlushQueue.Any(e => e.Counter >= domain.FlushFinished && e.Iova.Overlaps(a));
            if (owner == AllocationOwner.FlushQueue && !pending)
                output.Add(new Violation(Inv08, null, a, $"domain {domain.Id}: FlushQueue allocation {a} has no pending flush-queue entry, so it is never released: leaked IOVA"));
            if (owner != AllocationOwner.FlushQueue && pending)
                output.Add(new Violation(Inv08, device, a, $"domain {domain.Id}: {owner} allocation {a} reuses an IOVA waiting for a flush"));
            // INV-15: a mapping's allocation is used by a live mapping.
            if (domain.IsDmaApi && owner == AllocationOwner.Mapping && !(domain.Users.TryGet(a.Start, out var user) && user.Last == a.Last))
                output.Add(new Violation(Inv15, null, a, $"domain {domain.Id}: Mapping allocation {a} is used by no live mapping: leaked IOVA"));
        }

        private static Violation Neighbour(ModelDomain domain, AddrRange a, AllocationOwner owner, IntervalTree<AllocationOwner?>.Entry other, int? device) =>
            other.Value is AllocationOwner otherOwner
                ? new Violation(Inv01, device, a.Intersect(other.Range), $"domain {domain.Id}: {owner} allocation {a} overlaps {otherOwner} allocation {other.Range}")
                : new Violation(Inv02, device, a.Intersect(other.Range), $"domain {domain.Id}: {owner} allocation {a} overlaps reserved IOVA {other.Range}");

        /// <summary>INV-15: a live mapping's part lives in an allocation the domain holds for a mapping.</summary>
        private void CheckUser(ModelDomain domain, AddrRange allocation, int mappingId, List<Violation> output)
        {
            if (!domain.IsDmaApi) return;
            bool held = domain.Occupied.TryGet(allocation.Start, out var e) && e.Last == allocation.Last && e.Value == AllocationOwner.Mapping;
            if (!held)
                output.Add(new Violation(Inv15, after.Mapping(mappingId)?.Device, allocation,
                    $"mapping {mappingId}: part lives in IOVA allocation {allocation}, which domain {domain.Id} does not hold for a mapping"));
        }

        private void CheckRun(ModelDomain domain, PageRun run, List<ReservedRegion> regions, List<Violation> output)
        {
            var format = domain.Format;
            var range = run.Range;
            // Formatted only for a violation: this runs on every leaf run an op touches.
            string What() => $"domain {domain.Id}: leaves {run}";
            // INV-14
            if (!domain.IsPaging)
                output.Add(new Violation(Inv14, null, null, $"domain {domain.Id} is a {domain.Type} domain but holds page-table leaves ({run})"));
            if (!format.SupportsPageSize(run.PageSize))
                output.Add(new Violation(Inv14, null, range, $"{What()} have a page size the format does not support ({format.Describe()})"));
            else if (run.Iova % run.PageSize != 0 || run.Phys % run.PageSize != 0)
                output.Add(new Violation(Inv14, null, range, $"{What()} are not aligned to their page size {Hex.Format(run.PageSize)}"));
            ulong bytes = run.PageSize * run.Count;
            if (bytes - 1 > ulong.MaxValue - run.Phys || run.Phys + (bytes - 1) > format.MaxOutput)
                output.Add(new Violation(Inv14, null, range, $"{What()} reach phys beyond the format's {format.OutputBits}-bit output"));
            if (!domain.Aperture.Contains(range))
                output.Add(new Violation(Inv14, null, range, $"{What()} lie outside the aperture {domain.Aperture}"));
            if ((run.Prot & InvariantChecker.ReadWrite) == 0)
                output.Add(new Violation(Inv14, null, range, $"{What()} grant neither read nor write"));
            if (run.Iova > 0 && domain.Leaves.TryFloor(run.Iova - 1, out var pred) && pred.Last >= run.Iova)
                output.Add(new Violation(Inv14, null, range.Intersect(pred.Range), $"domain {domain.Id}: leaves {pred.Value} and {run} overlap"));
            if (run.Iova < ulong.MaxValue && domain.Leaves.TryCeiling(run.Iova + 1, out var succ) && succ.Start <= run.Last)
                output.Add(new Violation(Inv14, null, range.Intersect(succ.Range), $"domain {domain.Id}: leaves {run} and {succ.Value} overlap"));
            // INV-03: never-mapped regions; user mappings out of reported regions.
            if (domain.IsPaging)
                foreach (var region in regions)
                {
                    if (!region.Range.Overlaps(range)) continue;
                    if (region.MustNeverBeMapped)
                        output.Add(new Violation(Inv03, null, range.Intersect(region.Range),
                            $"{What()} map part of the {region.Type} region {region.Range}, which must never be mapped"));
                    else if (domain.Type == DomainType.Unmanaged && region.ClosedToUserMappings &&
                             !(region.Type == ReservedRegionType.SwMsi && run.Count == 1 && domain.MsiPages.Any(p => p.Iova == run.Iova)))
                        output.Add(new Violation(Inv03, null, range.Intersect(region.Range),
                            $"unmanaged domain {domain.Id}: leaves {run} map part of the {region.Type} region {region.Range}, which VFIO and iommufd keep out of user IOVA"));
                }
            // INV-15: every leaf of a DMA-API domain is accounted for.
            if (domain.IsDmaApi && !AccountedFor(domain, run, regions))
                output.Add(new Violation(Inv15, null, range,
                    $"domain {domain.Id}: leaves map {range}, which no live mapping, MSI page or direct region accounts for: orphaned translation"));
        }

        /// <summary>Covered by live Mapping/MsiPage allocations, or an identity run inside a direct region.</summary>
        private static bool AccountedFor(ModelDomain domain, PageRun run, List<ReservedRegion> regions)
        {
            ulong cursor = run.Iova;
            foreach (var e in domain.Occupied.Overlapping(run.Range))
            {
                if (e.Value is not (AllocationOwner.Mapping or AllocationOwner.MsiPage)) continue;
                if (e.Start > cursor) break;
                if (e.Last >= run.Last) return true;
                cursor = Math.Max(cursor, e.Last + 1);
            }
            if (run.Iova != run.Phys) return false;
            foreach (var region in regions)
                if (region.IsIdentityMapped && Outward(region.Range, domain.Granule).Contains(run.Range)) return true;
            return false;
        }

        /// <summary>INV-03: every Direct/DirectRelaxable region of a DMA-API domain stays identity-mapped.</summary>
        private static void CheckDirectRegions(ModelDomain domain, List<ReservedRegion> regions, List<AddrRange> leafRanges, bool all, List<Violation> output)
        {
            if (!domain.IsDmaApi) return;
            foreach (var region in regions)
            {
                if (!region.IsIdentityMapped) continue;
                var needed = Outward(region.Range, domain.Granule);
                if (!all && !leafRanges.Any(r => r.Overlaps(needed))) continue;
                ulong cursor = needed.Start;
                AddrRange? hole = null, wrong = null;
                foreach (var e in domain.Leaves.Overlapping(needed))
                {
                    if (e.Start > cursor && hole is null) hole = new AddrRange(cursor, e.Start - 1);
                    if (e.Value.Iova != e.Value.Phys && wrong is null) wrong = e.Range.Intersect(needed);
                    if (e.Last >= needed.Last) { cursor = needed.Last; goto done; }
                    cursor = e.Last + 1;
                }
                hole ??= new AddrRange(cursor, needed.Last);
                done:
                if (hole is AddrRange h)
                    output.Add(new Violation(Inv03, null, h,
                        $"domain {domain.Id}: the {region.Type} region {region.Range} (granule-aligned {needed}) must stay identity-mapped, but {h} has no leaf"));
                if (wrong is AddrRange w)
                    output.Add(new Violation(Inv03, null, w,
                        $"domain {domain.Id}: the {region.Type} region {region.Range} must stay identity-mapped, but {w} is not mapped 1:1"));
            }
        }

        /// <summary>INV-08 and INV-07 for the cached walks of the touched ranges (all of them when
        /// the domain's type forbids caching).</summary>
        private void CheckIotlb(ModelDomain domain, Footprint.DomainTouch touch, List<AddrRange> allocationRanges, List<AddrRange> leafRanges, List<Violation> output)
        {
            if (domain.Iotlb.IsEmpty) return;
            var iommus = IommusOf(after, domain);
            var ranges = new List<AddrRange>(touch.IotlbRanges);
            ranges.AddRange(leafRanges);
            ranges.AddRange(allocationRanges);
            bool everything = domain.Type is DomainType.Blocked or DomainType.Identity || touch.Created;
            foreach (var (iommu, tree) in domain.Iotlb)
            {
                if (!iommus.Contains(iommu) && !tree.IsEmpty && tree.TryElementAt(0, out var first))
                    output.Add(new Violation(Inv07, null, first.Range,
                        $"domain {domain.Id}: IOTLB of IOMMU {iommu} caches {first.Value}, but that IOMMU has no device in the domain (IOMMUs: {string.Join(", ", iommus)})"));
                var seen = new HashSet<ulong>();
                var entries = everything ? tree.InOrder() : ranges.SelectMany(r => tree.Overlapping(r));
                foreach (var e in entries)
                    if (seen.Add(e.Start))
                        CheckCached(domain, iommu, e.Value, output);
            }
        }

        private static void CheckCached(ModelDomain domain, int iommu, PageRun cached, List<Violation> output)
        {
            string What() => $"domain {domain.Id}: IOTLB entries of IOMMU {iommu} {cached}";
            switch (domain.Type)
            {
                case DomainType.Blocked:
                    output.Add(new Violation(Inv08, null, cached.Range, $"{What()}: a blocked domain translates nothing, so nothing may be cached"));
                    break;
                case DomainType.Identity:
                    if (cached.Iova != cached.Phys)
                        output.Add(new Violation(Inv08, null, cached.Range, $"{What()}: an identity domain can only cache identity walks"));
                    break;
                case DomainType.DmaFq:
                    if (!AgreesWithLeaves(domain, cached) && !WaitingForFlush(domain, cached.Range))
                        output.Add(new Violation(Inv08, null, cached.Range, $"{What()} disagree with the page table and are not inside an IOVA range waiting for a flush"));
                    break;
                default:
                    if (!AgreesWithLeaves(domain, cached))
                        output.Add(new Violation(Inv08, null, cached.Range, $"{What()} disagree with the page table of a strict domain (stale after unmap)"));
                    break;
            }
        }

        /// <summary>Every cached page is backed by a leaf with the same translation and prot.</summary>
        private static bool AgreesWithLeaves(ModelDomain domain, PageRun cached)
        {
            ulong cursor = cached.Iova;
            foreach (var e in domain.Leaves.Overlapping(cached.Range))
            {
                if (e.Start > cursor) return false;
                if (!e.Value.SameOffsetAs(cached) || e.Value.Prot != cached.Prot) return false;
                if (e.Last >= cached.Last) return true;
                cursor = e.Last + 1;
            }
            return false;
        }

        private static bool WaitingForFlush(ModelDomain domain, AddrRange range) =>
            domain.Occupied.TryFindContaining(range.Start, out var e) && e.Value == AllocationOwner.FlushQueue && e.Range.Contains(range) &&
            domain.FlushQueue.Any(q => q.Counter >= domain.FlushFinished && q.Iova.Overlaps(e.Range));

        /// <summary>INV-08: the queue holds exactly what it should.</summary>
        private static void CheckFlushQueue(ModelDomain domain, List<Violation> output)
        {
            foreach (var e in domain.FlushQueue)
            {
                if (e.Counter < domain.FlushFinished)
                    output.Add(new Violation(Inv08, null, e.Iova,
                        $"domain {domain.Id}: flush-queue entry {e.Iova} (counter {e.Counter}) was covered by a finished flush (finish count {domain.FlushFinished}) but is still held: leaked IOVA"));
                else if (!(domain.Occupied.TryFindContaining(e.Iova.Start, out var held) && held.Value == AllocationOwner.FlushQueue && held.Range.Contains(e.Iova)))
                    output.Add(new Violation(Inv08, null, e.Iova,
                        $"domain {domain.Id}: {e.Iova} waits in the flush queue but no FlushQueue allocation holds it, so it can be reused before the flush"));
            }
        }

        /// <summary>INV-07: all IOMMUs walking one domain use one page-table format.</summary>
        private void CheckSharing(ModelDomain domain, List<Violation> output)
        {
            var known = IommusOf(after, domain).Select(id => Platform.Iommu(id)).OfType<IommuConfig>().ToList();
            foreach (int id in IommusOf(after, domain))
                if (Platform.Iommu(id) is null)
                    output.Add(new Violation(Inv07, null, null, $"domain {domain.Id} is walked by IOMMU {id}, which platform '{Platform.Preset}' does not have"));
            foreach (var other in known.Skip(1))
                if (!Equals(other.Format, known[0].Format))
                    output.Add(new Violation(Inv07, null, null,
                        $"domain {domain.Id} is shared by IOMMU {known[0].Id} and IOMMU {other.Id}, whose page-table formats differ"));
        }

        // ----- mappings -----

        public void CheckMappings(List<Violation> output)
        {
            foreach (int id in footprint.MappingsAdded)
                if (after.Mapping(id) is { } m) CheckMapping(m, output);
            foreach (int id in _translationOnly)
                if (!footprint.MappingsAdded.Contains(id) && after.Mapping(id) is { } m)
                    foreach (var part in m.Parts)
                        if (part.Domain is int d && after.Domain(d) is { } domain && RangeOf(part.Dma, part.Length) is AddrRange r)
                            CheckLeafTranslation(m, part, r, domain, output);
        }

        private void CheckMapping(DmaMapping m, List<Violation> output)
        {
            var dev = after.Device(m.Device);
            var config = Platform.Device(m.Device);
            if (dev is null)
            {
                output.Add(new Violation(Inv07, m.Device, null, $"mapping {m.Id} belongs to device {m.Device}, which does not exist"));
                return;
            }
            var tce = config is { BypassesIommu: false } ? Platform.IommuOf(config)?.Tce : null;
            foreach (var part in m.Parts)
            {
                if (RangeOf(part.Dma, part.Length) is not AddrRange range)
                {
                    output.Add(new Violation(Inv05, m.Device, null, $"mapping {m.Id}: part {Hex.Format(part.Dma)}+{Hex.Format(part.Length)} is empty or wraps past 2^64"));
                    if (part.IsBypass)
                        output.Add(new Violation(Inv04, m.Device, null, $"mapping {m.Id}: bypass part {Hex.Format(part.Dma)}+{Hex.Format(part.Length)} is empty or wraps past 2^64"));
                    continue;
                }
                // INV-05
                if (range.Last > m.Limit)
                    output.Add(new Violation(Inv05, m.Device, range, $"mapping {m.Id}: part {range} ends above the DMA limit {Hex.Format(m.Limit)} it was mapped under"));
                var domain = part.Domain is int pd ? after.Domain(pd) : null;
                if (!part.IsBypass && domain is not null && !domain.Aperture.Contains(range))
                    output.Add(new Violation(Inv05, m.Device, range, $"mapping {m.Id}: part {range} is outside the aperture {domain.Aperture} of domain {domain.Id}"));
                // INV-07
                if (part.Domain is int domainId)
                {
                    if (domain is null)
                        output.Add(new Violation(Inv07, m.Device, range, $"mapping {m.Id}: part {range} names domain {domainId}, which does not exist"));
                    else if (dev.Domain != domainId)
                        output.Add(new Violation(Inv07, m.Device, range, $"mapping {m.Id}: part {range} is translated by domain {domainId}, but device {m.Device} is attached to {(dev.Domain is int d ? $"domain {d}" : "no domain")}"));
                }
                if (part.IsBypass) CheckBypassPart(m, part, range, tce, output);
                // INV-06
                if (part.Length - 1 > ulong.MaxValue - part.Phys)
                    output.Add(new Violation(Inv06, m.Device, range, $"mapping {m.Id}: part {range} names physical bytes that wrap past 2^64"));
                else if (part.IsBypass)
                {
                    bool ok = tce is null ? part.Dma == part.Phys : part.Phys <= ulong.MaxValue - tce.DdwOffset && part.Dma == part.Phys + tce.DdwOffset;
                    if (!ok)
                        output.Add(new Violation(Inv06, m.Device, range, $"mapping {m.Id}: bypass part {range} does not reach phys {Hex.Format(part.Phys)} 1:1{(tce is null ? "" : " through the dynamic DMA window")}"));
                }
                else if (domain is not null)
                    CheckLeafTranslation(m, part, range, domain, output);
                // INV-13
                if (config is { BypassesIommu: true } && (!part.IsBypass || part.Dma != part.Phys))
                    output.Add(new Violation(Inv13, m.Device, range, $"mapping {m.Id}: device {m.Device} bypasses the IOMMU but part {range} is translated or does not reach phys 1:1"));
                // INV-12
                if (m.UntrustedDevice && !part.IsBypass && domain is not null) CheckUntrustedPart(m, part, range, domain, output);
                // INV-15
                if (!part.IsBypass && domain is { IsDmaApi: true })
                {
                    if (part.Allocation is not AddrRange alloc)
                        output.Add(new Violation(Inv15, m.Device, range, $"mapping {m.Id}: part {range} in domain {domain.Id} names no IOVA allocation"));
                    else if (!(domain.Occupied.TryGet(alloc.Start, out var held) && held.Last == alloc.Last && held.Value == AllocationOwner.Mapping))
                        output.Add(new Violation(Inv15, m.Device, alloc, $"mapping {m.Id}: part {range} lives in IOVA allocation {alloc}, which domain {domain.Id} does not hold for a mapping"));
                    else if (!alloc.Contains(range))
                        output.Add(new Violation(Inv15, m.Device, range, $"mapping {m.Id}: part {range} reaches outside its IOVA allocation {alloc}"));
                }
                if (part.Bounce is int slotId && !after.Bounces.ContainsKey(slotId))
                    output.Add(new Violation(Inv15, m.Device, range, $"mapping {m.Id}: part names bounce slot {slotId}, which does not exist"));
            }
            if (m.Kind == MappingKind.Sg)
                InvariantChecker.CheckSgMapping(id => id is int i && after.Bounces.TryGetValue(i, out var s) ? s : null, m, output);
        }

        /// <summary>INV-04 for a bypass part.</summary>
        private void CheckBypassPart(DmaMapping m, MappingPart part, AddrRange range, TceConfig? tce, List<Violation> output)
        {
            if (range.Last > m.Limit)
                output.Add(new Violation(Inv04, m.Device, range, $"mapping {m.Id}: bypass part {range} ends above the DMA limit {Hex.Format(m.Limit)} it was mapped under"));
            foreach (var aperture in Platform.Apertures)
                if (range.Overlaps(aperture))
                    output.Add(new Violation(Inv04, m.Device, range.Intersect(aperture), $"mapping {m.Id}: bypass part {range} lies in the GART aperture {aperture}, where bus addresses are remapped"));
            foreach (var iommu in Platform.Config.Iommus)
                if (iommu.Tce is { } t && part.Dma >= t.DdwOffset && range.End > InvariantChecker.DirectLimit(t))
                    output.Add(new Violation(Inv04, m.Device, range, $"mapping {m.Id}: bypass part {range} in the dynamic DMA window ends above its direct limit"));
        }

        /// <summary>INV-06 for a translated part: leaf by leaf (run by run) over its bus range.</summary>
        private static void CheckLeafTranslation(DmaMapping m, MappingPart part, AddrRange range, ModelDomain domain, List<Violation> output)
        {
            if (!domain.IsPaging)
            {
                output.Add(new Violation(Inv06, m.Device, range, $"mapping {m.Id}: part {range} is said to be translated by domain {domain.Id}, a {domain.Type} domain without a page table"));
                return;
            }
            var expected = InvariantChecker.ExpectedLeafAccess(m, domain.Format.Format);
            ulong offset = unchecked(part.Phys - part.Dma);
            ulong cursor = range.Start;
            foreach (var e in domain.Leaves.Overlapping(range))
            {
                if (e.Start > cursor)
                {
                    output.Add(new Violation(Inv06, m.Device, new AddrRange(cursor, e.Start - 1), $"mapping {m.Id}: bytes {new AddrRange(cursor, e.Start - 1)} of part {range} have no leaf in domain {domain.Id}"));
                    return;
                }
                if (unchecked(e.Value.Phys - e.Value.Iova) != offset)
                {
                    output.Add(new Violation(Inv06, m.Device, e.Range.Intersect(range), $"mapping {m.Id}: part {range} should reach phys {Hex.Format(part.Phys)}+ but leaves {e.Value} send it elsewhere"));
                    return;
                }
                if ((e.Value.Prot & InvariantChecker.ReadWrite) != expected)
                {
                    output.Add(new Violation(Inv06, m.Device, e.Range.Intersect(range), $"mapping {m.Id}: a {m.Kind} {m.Direction} mapping needs permission {expected}, but leaves {e.Value} grant {e.Value.Prot & InvariantChecker.ReadWrite}"));
                    return;
                }
                if (e.Last >= range.Last) return;
                cursor = e.Last + 1;
            }
            output.Add(new Violation(Inv06, m.Device, new AddrRange(cursor, range.Last), $"mapping {m.Id}: bytes {new AddrRange(cursor, range.Last)} of part {range} have no leaf in domain {domain.Id}"));
        }

        /// <summary>INV-12 for a translated part of an untrusted device.</summary>
        private void CheckUntrustedPart(DmaMapping m, MappingPart part, AddrRange range, ModelDomain domain, List<Violation> output)
        {
            ulong granule = domain.Granule;
            void Report(string text) => output.Add(new Violation(Inv12, m.Device, range, $"mapping {m.Id}: untrusted part {range}: {text}"));
            if (part.Bounce is not int slotId)
            {
                if ((part.Phys & (granule - 1)) != 0 || (part.Length & (granule - 1)) != 0)
                    Report($"phys {Hex.Format(part.Phys)}+{Hex.Format(part.Length)} is not granule-aligned ({Hex.Format(granule)}) and was not bounced, so the device sees the neighbouring bytes");
                return;
            }
            if (!after.Bounces.TryGetValue(slotId, out var slot))
            {
                Report($"names bounce slot {slotId}, which does not exist");
                return;
            }
            if (slot.Device != m.Device) Report($"bounce slot {slot.Id} belongs to device {slot.Device}");
            if (RangeOf(slot.BufferPhys, slot.Length) is not AddrRange buffer)
            {
                Report($"bounce slot {slot.Id} has an empty or wrapping buffer");
                return;
            }
            if (RangeOf(part.Phys, part.Length) is not AddrRange partPhys || !buffer.Contains(partPhys))
                Report($"reaches phys {Hex.Format(part.Phys)}+{Hex.Format(part.Length)}, outside the copy {buffer} in bounce slot {slot.Id}");
            if (!slot.Slot.Contains(Outward(buffer, granule)))
                Report($"bounce slot {slot.Id} {slot.Slot} does not span the whole granules around its copy {buffer}");
            if (!slot.PaddingZeroed)
                Report($"bounce slot {slot.Id}: the padding around the copy is not zeroed, so the device can read stale data");
            if (after.BounceSpans.Overlapping(slot.Slot).Count > 1)
                Report($"bounce slot {slot.Id} {slot.Slot} overlaps another live bounce slot");
        }

        // ----- what removed mappings leave behind -----

        public void CheckRemovals(List<Violation> output)
        {
            foreach (int id in footprint.MappingsRemoved)
            {
                if (before.Mapping(id) is not { } m) continue;
                foreach (var part in m.Parts)
                {
                    if (part.Bounce is int slot && after.Bounces.TryGetValue(slot, out var left) && !UsedByLiveMapping(slot))
                        output.Add(new Violation(Inv15, left.Device, left.Slot, $"bounce slot {slot} {left.Slot} of device {left.Device} is used by no live mapping: leaked"));
                    if (part.Domain is not int d || part.Allocation is not AddrRange alloc || after.Domain(d) is not { IsDmaApi: true } domain) continue;
                    if (domain.Occupied.TryGet(alloc.Start, out var held) && held.Last == alloc.Last && held.Value == AllocationOwner.Mapping &&
                        !(domain.Users.TryGet(alloc.Start, out var user) && user.Last == alloc.Last))
                        output.Add(new Violation(Inv15, null, alloc, $"domain {domain.Id}: Mapping allocation {alloc} is used by no live mapping: leaked IOVA"));
                    foreach (var e in domain.Leaves.Overlapping(alloc))
                        if (!AccountedFor(domain, e.Value, RegionsOf(after, domain)))
                            output.Add(new Violation(Inv15, null, e.Range,
                                $"domain {domain.Id}: leaves map {e.Range}, which no live mapping, MSI page or direct region accounts for: orphaned translation"));
                }
            }
            foreach (int slot in footprint.BouncesAdded)
                if (after.Bounces.TryGetValue(slot, out var s) && !UsedByLiveMapping(slot))
                    output.Add(new Violation(Inv15, s.Device, s.Slot, $"bounce slot {slot} {s.Slot} of device {s.Device} is used by no live mapping: leaked"));
        }

        /// <summary>Whether a live mapping of the slot's device names it (slots are per device).</summary>
        private bool UsedByLiveMapping(int slot)
        {
            if (!after.Bounces.TryGetValue(slot, out var s)) return false;
            foreach (int id in footprint.MappingsAdded)
                if (after.Mapping(id) is { } m && m.Parts.Any(p => p.Bounce == slot)) return true;
            foreach (var m in after.MappingsOf(s.Device))
                if (m.Parts.Any(p => p.Bounce == slot)) return true;
            return false;
        }
    }
}
