using DmaVerify.Contracts;

namespace DmaVerify.Model;

public static partial class IncrementalChecker
{
    /// <summary>INV-08 on a step: a successful device access reached only what `before` allowed
    /// (the rule of <see cref="InvariantChecker"/>'s stale-access check, on the model's state).</summary>
    private static void CheckStaleAccess(ModelState before, Op op, Outcome outcome, List<Violation> output)
    {
        if (op is not DeviceAccess access || outcome is not Accessed accessed) return;
        if (before.Device(access.Device) is not { } dev || before.DomainOf(dev) is not { IsPaging: true } domain) return;
        Prot needed = access.Write ? Prot.Write : Prot.Read;
        var iommu = before.Platform.Device(access.Device) is { } config ? before.Platform.IommuOf(config) : null;
        var msiWindows = RegionsOf(before, domain).Where(r => r.Type == ReservedRegionType.Msi).Select(r => r.Range).ToList();
        var tlb = domain.Type == DomainType.DmaFq && iommu is not null ? domain.IotlbOf(iommu.Id) : IntervalTree<PageRun>.Empty;

        foreach (var chunk in accessed.Chunks)
        {
            if (chunk.Length == 0) continue;
            if (RangeOf(chunk.Dma, chunk.Length) is not AddrRange range)
            {
                output.Add(new Violation(Inv08, access.Device, null, $"access chunk {chunk} wraps past 2^64"));
                continue;
            }
            foreach (var (piece, where) in InvariantChecker.AccessPieces(range, domain.Aperture, msiWindows))
            {
                var sub = new AccessChunk(piece.Start, new PhysAddr(unchecked(chunk.Phys.Value + (piece.Start - chunk.Dma))), (ulong)piece.Size);
                if (where == InvariantChecker.AccessPlace.MsiWindow && sub.Dma == sub.Phys.Value) continue;
                if (where == InvariantChecker.AccessPlace.OutsideAperture)
                {
                    if (!UntranslatedPathAllows(iommu, sub, piece))
                        output.Add(new Violation(Inv08, access.Device, piece,
                            $"access chunk {chunk} lies outside the aperture {domain.Aperture} of domain {domain.Id} at {piece} and no untranslated path reaches that phys"));
                    continue;
                }
                ulong offset = unchecked(chunk.Phys.Value - chunk.Dma);
                if (Unbacked(piece, offset, needed, domain.Leaves, tlb) is AddrRange unbacked)
                    output.Add(new Violation(Inv08, access.Device, unbacked,
                        $"{(access.Write ? "write" : "read")} access {chunk} reached phys, but in domain {domain.Id} ({domain.Type}) {unbacked} was not backed by a leaf or a cached walk with that translation and {needed} permission before the access: stale or invented translation"));
            }
        }
    }

    /// <summary>The first piece of <paramref name="range"/> that no leaf and no cached walk with
    /// this iova→phys offset and the needed permission covers; null when all of it is covered.</summary>
    private static AddrRange? Unbacked(AddrRange range, ulong offset, Prot needed, params IntervalTree<PageRun>[] sources)
    {
        var good = new List<AddrRange>();
        foreach (var tree in sources)
            foreach (var e in tree.Overlapping(range))
                if (unchecked(e.Value.Phys - e.Value.Iova) == offset && (e.Value.Prot & needed) != 0)
                    good.Add(e.Range);
        good.Sort((x, y) => x.Start.CompareTo(y.Start));
        ulong cursor = range.Start;
        foreach (var g in good)
        {
            if (g.Start > cursor) return new AddrRange(cursor, Math.Min(g.Start - 1, range.Last));
            if (g.Last >= range.Last) return null;
            cursor = Math.Max(cursor, g.Last + 1);
        }
        return new AddrRange(cursor, range.Last);
    }

    private static bool UntranslatedPathAllows(IommuConfig? iommu, AccessChunk chunk, AddrRange range)
    {
        if (iommu?.Gart is not null)
            return chunk.Dma == chunk.Phys.Value && !range.Overlaps(iommu.Gart.Aperture);
        if (iommu?.Tce is { } tce)
            return chunk.Dma >= tce.DdwOffset && chunk.Phys.Value <= ulong.MaxValue - tce.DdwOffset &&
                   chunk.Dma == chunk.Phys.Value + tce.DdwOffset && range.End <= InvariantChecker.DirectLimit(tce);
        return false;
    }

    private sealed record UnmapRequest(string Name, int Device, AddressRef Handle, MappingKind Kind, ulong? Size, int? Nents, DmaDirection? Direction);

    private static UnmapRequest? AsUnmap(Op op) => op switch
    {
        Unmap u => new("unmap", u.Device, u.Handle, MappingKind.Single, u.Length, null, u.Direction),
        UnmapSg u => new("unmap_sg", u.Device, u.Handle, MappingKind.Sg, null, u.Nents, u.Direction),
        FreeCoherent f => new("free_coherent", f.Device, f.Handle, MappingKind.Coherent, f.Size, null, null),
        UnmapResource u => new("unmap_resource", u.Device, u.Handle, MappingKind.Resource, u.Length, null, u.Direction),
        _ => null,
    };

    private static DmaErrorKind? MisuseAgainst(UnmapRequest u, DmaMapping m)
    {
        if (u.Kind != m.Kind) return DmaErrorKind.WrongFunction;
        if (u.Size is ulong size && size != m.Size) return DmaErrorKind.WrongSize;
        if (u.Nents is int nents && nents != m.Nents) return DmaErrorKind.SgCountMismatch;
        if (u.Direction is DmaDirection dir && dir != m.Direction) return DmaErrorKind.WrongDirection;
        return null;
    }

    /// <summary>INV-10 on a step (the rule of <see cref="InvariantChecker"/>'s misuse check).</summary>
    private static void CheckMisuse(ModelState before, ModelState after, Footprint footprint, Op op, Outcome outcome, List<Violation> output)
    {
        if (AsUnmap(op) is not { } u) return;
        var allowed = new HashSet<DmaErrorKind>();
        string reason = "";
        var matching = new List<DmaMapping>();
        if (before.Device(u.Device) is null)
        {
            allowed.Add(DmaErrorKind.UnknownDevice);
            reason = $"device {u.Device} does not exist";
        }
        else if (!TryResolve(before, u.Device, u.Handle, out ulong address))
        {
            allowed.UnionWith([DmaErrorKind.UnknownHandle, DmaErrorKind.DoubleUnmap, DmaErrorKind.InvalidArgument]);
            reason = $"handle {u.Handle} names no live mapping of device {u.Device}";
        }
        else if (address == DmaAddr.MappingError.Value)
        {
            allowed.Add(DmaErrorKind.InvalidDmaAddress);
            reason = $"handle {u.Handle} is DMA_MAPPING_ERROR";
        }
        else
        {
            var candidates = before.MappingsAt(u.Device, address).Order().Select(id => before.Mapping(id)!).ToList();
            matching = candidates.Where(m => MisuseAgainst(u, m) is null).ToList();
            if (candidates.Count == 0)
            {
                allowed.UnionWith([DmaErrorKind.UnknownHandle, DmaErrorKind.DoubleUnmap]);
                reason = $"device {u.Device} has no live mapping at {Hex.Format(address)}";
            }
            else if (matching.Count == 0)
            {
                foreach (var m in candidates) allowed.Add(MisuseAgainst(u, m)!.Value);
                reason = $"the live mapping {candidates[0].Id} at {Hex.Format(address)} does not match";
            }
        }

        string opText = $"{u.Name} dev={u.Device} handle={u.Handle}";
        if (allowed.Count > 0)
        {
            string kinds = string.Join(" or ", allowed.Order());
            if (outcome is not Failed failed)
                output.Add(new Violation(Inv10, u.Device, null, $"{opText} succeeded, but {reason}: expected {kinds}"));
            else if (!allowed.Contains(failed.Kind))
                output.Add(new Violation(Inv10, u.Device, null, $"{opText} failed with {failed.Kind}, but {reason}: expected {kinds}"));
            if (Changes(before, after, allowPci32FirstCleared: false) is string change)
                output.Add(new Violation(Inv10, u.Device, null, $"{opText} is misuse ({reason}) but changed the state: {change}"));
            return;
        }
        if (outcome is Failed wrong)
        {
            if (InvariantChecker.IsMisuseKind(wrong.Kind))
                output.Add(new Violation(Inv10, u.Device, null, $"{opText} matches live mapping {matching[0].Id} but was refused as {wrong.Kind}"));
            return;
        }
        if (footprint.MappingsRemoved.Count != 1 || !matching.Any(m => footprint.MappingsRemoved.Contains(m.Id)) || footprint.MappingsAdded.Count > 0)
            output.Add(new Violation(Inv10, u.Device, null,
                $"{opText} should remove exactly mapping {string.Join(" or ", matching.Select(m => m.Id))}, but removed [{string.Join(", ", footprint.MappingsRemoved)}]" +
                (footprint.MappingsAdded.Count > 0 ? $" and added [{string.Join(", ", footprint.MappingsAdded)}]" : "")));
    }

    private static bool TryResolve(ModelState state, int device, AddressRef? handle, out ulong address)
    {
        address = 0;
        switch (handle)
        {
            case RawRef raw:
                address = raw.Address;
                return true;
            case LiveRef live:
                if (live.Index < 0 || state.LiveMapping(device, live.Index) is not { } m) return false;
                address = unchecked(m.Dma.Value + live.Offset);
                return true;
            default:
                return false;
        }
    }

    /// <summary>INV-11 on a step: an OutOfIova failure had no allowed range in `before` (the
    /// rule of <see cref="InvariantChecker"/>'s completeness check, placed with the model's trees).</summary>
    private static void CheckCompleteness(ModelState before, Op op, Outcome outcome, List<Violation> output)
    {
        if (outcome is not Failed { Kind: DmaErrorKind.OutOfIova }) return;
        int device;
        bool coherent = false;
        List<(ulong Phys, ulong Length)> pieces;
        switch (op)
        {
            case Map m: device = m.Device; pieces = [(m.Phys.Value, m.Length)]; break;
            case MapResource r: device = r.Device; pieces = [(r.Phys.Value, r.Length)]; break;
            case AllocCoherent a: device = a.Device; coherent = true; pieces = [(a.Phys.Value, a.Size)]; break;
            case MapSg s: device = s.Device; pieces = s.Segments.Select(e => (e.Phys.Value, e.Length)).ToList(); break;
            case SetupMsi msi: CheckMsiCompleteness(before, msi, output); return;
            default: return;
        }
        if (before.Device(device) is not { } dev || before.DomainOf(dev) is not { IsDmaApi: true } domain) return;
        ulong granule = domain.Granule;
        var lengths = new List<ulong>();
        foreach (var (phys, len) in pieces)
        {
            if (len == 0) continue;
            UInt128 raw = (UInt128)(phys & (granule - 1)) + len;
            UInt128 rounded = (raw + (granule - 1)) / granule * granule;
            if (rounded > ulong.MaxValue) return;
            lengths.Add((ulong)rounded);
        }
        if (lengths.Count == 0) return;
        var config = before.Platform.Device(device);
        ulong limit = RequestLimit(dev, domain, coherent);
        ulong boundary = domain.Policy == IovaPolicy.PageGranular ? config?.SegmentBoundaryMask ?? ulong.MaxValue : ulong.MaxValue;

        if (op is MapSg && config is { Untrusted: true } && domain.Policy == IovaPolicy.SizeAligned)
        {
            var scratch = domain;
            var fits = new List<AddrRange>();
            foreach (ulong len in lengths)
            {
                var request = IovaSpace.RequestFor(scratch.Policy, scratch.Granule, len, limit, boundary);
                if (request.Alignment == 0 || Placement.DefaultFit(scratch, request) is not AddrRange r) return;
                fits.Add(r);
                scratch = scratch with { Occupied = scratch.Occupied.Add(r, AllocationOwner.Mapping) };
            }
            output.Add(new Violation(Inv11, device, fits[0],
                $"{op.GetType().Name} failed with OutOfIova, but its {lengths.Count} segments fit at {string.Join(", ", fits)} below {Hex.Format(limit)} in domain {domain.Id}"));
            return;
        }
        UInt128 total = 0;
        if (op is MapSg && domain.Policy == IovaPolicy.SizeAligned)
        {
            ulong mask = config?.SegmentBoundaryMask ?? ulong.MaxValue;
            foreach (ulong l in lengths)
            {
                ulong pad = unchecked((mask - (ulong)total + 1) & mask);
                if (pad != 0 && pad < l - 1) total += pad;
                total += l;
                if (total > ulong.MaxValue) return;
            }
        }
        else
            foreach (ulong l in lengths) total += l;
        if (total > ulong.MaxValue) return;
        var whole = IovaSpace.RequestFor(domain.Policy, granule, (ulong)total, limit, boundary);
        if (whole.Bytes == 0 || whole.Alignment == 0) return;
        if (Placement.DefaultFit(domain, whole) is AddrRange existing)
            output.Add(new Violation(Inv11, device, existing,
                $"{op.GetType().Name} failed with OutOfIova, but {existing} satisfies the request ({whole}) in domain {domain.Id}"));
    }

    private static void CheckMsiCompleteness(ModelState before, SetupMsi msi, List<Violation> output)
    {
        if (before.Device(msi.Device) is not { } dev || before.DomainOf(dev) is not { IsDmaApi: true } domain) return;
        ulong granule = domain.Granule, doorbell = msi.Doorbell.Value, page = doorbell & ~(granule - 1);
        if (RegionsOf(before, domain).Any(r => r.Type == ReservedRegionType.Msi && r.Range.Contains(doorbell)))
        {
            output.Add(new Violation(Inv11, msi.Device, null, $"SetupMsi failed with OutOfIova, but doorbell {msi.Doorbell} lies in a hardware MSI window and needs no IOVA"));
            return;
        }
        if (domain.MsiPages.Any(p => p.DoorbellPage == page))
        {
            output.Add(new Violation(Inv11, msi.Device, null, $"SetupMsi failed with OutOfIova, but doorbell page {Hex.Format(page)} is already mapped in domain {domain.Id}"));
            return;
        }
        var request = IovaSpace.RequestFor(domain.Policy, granule, granule, RequestLimit(dev, domain, coherent: false), ulong.MaxValue);
        if (Placement.DefaultFit(domain, request) is AddrRange existing)
            output.Add(new Violation(Inv11, msi.Device, existing, $"SetupMsi failed with OutOfIova, but {existing} satisfies the request ({request}) in domain {domain.Id}"));
    }

    private static ulong RequestLimit(ModelDevice dev, ModelDomain domain, bool coherent)
    {
        ulong limit = coherent ? dev.CoherentMask : dev.DmaMask;
        if (dev.BusDmaLimit != 0) limit = Math.Min(limit, dev.BusDmaLimit);
        if (domain.ForceAperture) limit = Math.Min(limit, domain.Aperture.Last);
        return limit;
    }

    /// <summary>INV-15 on a step: a failed op changes nothing but what Linux keeps (a PCI
    /// device leaving 32-bit-first mode). Two versions of the model state share everything that
    /// did not change, so this compares roots, not copies of the world.</summary>
    private static void CheckAtomicity(ModelState before, ModelState after, Op op, Outcome outcome, List<Violation> output)
    {
        if (outcome is not Failed failed || op is DeviceAccess or Tick or Flush) return;
        if (Changes(before, after, allowPci32FirstCleared: true) is not string change) return;
        output.Add(new Violation(Inv15, DeviceOf(op), null, $"{op.GetType().Name} failed ({failed.Kind}) but changed the state: {change}"));
    }

    private static int? DeviceOf(Op op) => op switch
    {
        Map m => m.Device, MapSg s => s.Device, AllocCoherent a => a.Device, MapResource r => r.Device,
        Unmap u => u.Device, UnmapSg u => u.Device, FreeCoherent f => f.Device, UnmapResource u => u.Device,
        SetupMsi msi => msi.Device, Attach at => at.Device, SetDomainType t => t.Device, SetMask sm => sm.Device,
        _ => null,
    };

    /// <summary>What differs between two versions of the model state, or null when nothing does.</summary>
    internal static string? Changes(ModelState a, ModelState b, bool allowPci32FirstCleared)
    {
        if (ReferenceEquals(a, b)) return null;
        var diffs = new List<string>();
        if (a.NowMs != b.NowMs) diffs.Add($"time {a.NowMs} → {b.NowMs} ms");
        if (!a.Devices.Equals(b.Devices))
            for (int i = 0; i < Math.Min(a.Devices.Length, b.Devices.Length); i++)
            {
                var x = a.Devices[i];
                var y = b.Devices[i];
                if (allowPci32FirstCleared && x.Pci32First && !y.Pci32First) y = y with { Pci32First = true };
                if (x != y) diffs.Add($"device {x.Id}: {x} → {y}");
            }
        var (domainsA, domainsB) = IntervalTree<ModelDomain>.Difference(a.Domains, b.Domains);
        foreach (var id in domainsA.Select(e => e.Start).Union(domainsB.Select(e => e.Start)).Distinct())
            diffs.Add($"domain {id} changed");
        var (mapsA, mapsB) = IntervalTree<DmaMapping>.Difference(a.Mappings, b.Mappings);
        foreach (var e in mapsA) diffs.Add($"mapping {e.Start} removed");
        foreach (var e in mapsB) diffs.Add($"mapping {e.Start} added");
        if (!ReferenceEquals(a.Bounces, b.Bounces) && !a.Bounces.OrderBy(p => p.Key).SequenceEqual(b.Bounces.OrderBy(p => p.Key)))
            diffs.Add("bounce slots changed");
        return diffs.Count == 0 ? null : string.Join("; ", diffs.Take(8));
    }
}
