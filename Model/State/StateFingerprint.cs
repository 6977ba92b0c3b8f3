using System.Numerics;
using System.Runtime.CompilerServices;
using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>
/// A 64-bit canonical hash of a <see cref="ModelState"/>: two states that behave alike under
/// every later op hash alike, so a bounded-exhaustive search can explore each abstract state once
/// whatever op order reached it. What is left out or renamed, and why it changes no behaviour:
/// <list type="bullet">
/// <item>Mapping and bounce-slot ids (creation counters): a mapping is named by its device and its
/// place among the device's live mappings (what a <c>#n</c> handle counts), a bounce slot by
/// where it sits in the pool.</item>
/// <item>Domain ids: numbered by first reference (devices in order, then mapping parts, then
/// the rest by id), so two states that differ only in which id a domain got hash alike.</item>
/// <item>Time: only the distance from now to each armed flush-queue deadline matters.</item>
/// <item>Flush counters: a queued entry is either covered by a finished flush or not; the
/// counters' absolute values decide nothing else.</item>
/// <item>Derived indexes (mappings by handle, allocation users): they follow from the rest.</item>
/// </list>
/// With <paramref name="deviceOrders"/> (symmetry reduction), each order lists the device ids
/// to visit and the smallest hash over the orders is the state's: states that differ by a
/// renaming of interchangeable devices (and of their domains) hash alike.
/// Hashes of unchanged domains are cached by reference: persistent states share them.
/// </summary>
public sealed class StateFingerprint
{
    private readonly ConditionalWeakTable<ModelDomain, Box> _domainHashes = new();
    private readonly Dictionary<int, int> _domainNames = [];
    private readonly List<int> _order = [];
    private readonly List<(int Name, ModelDomain Domain)> _domains = [];

    private sealed class Box(ulong value)
    {
        public readonly ulong Value = value;
    }

    /// <summary>The state's hash visiting devices in platform order.</summary>
    public ulong Of(ModelState state) => Of(state, null);

    /// <summary>The smallest hash over the device visiting orders (each a permutation of the
    /// platform's device ids); null or empty: platform order only.</summary>
    public ulong Of(ModelState state, IReadOnlyList<IReadOnlyList<int>>? deviceOrders)
    {
        if (deviceOrders is null || deviceOrders.Count == 0)
        {
            _order.Clear();
            foreach (var d in state.Devices) _order.Add(d.Id);
            return Hash(state, _order);
        }
        ulong best = ulong.MaxValue;
        foreach (var order in deviceOrders)
            best = Math.Min(best, Hash(state, order));
        return best;
    }

    private ulong Hash(ModelState state, IReadOnlyList<int> order)
    {
        _domainNames.Clear();
        var h = new Hasher(0x5EED);
        foreach (int id in order)
            if (state.Device(id) is { Domain: int domain }) Name(domain);
        // Devices, each with its live mappings in creation order and its unmapped handles.
        for (int position = 0; position < order.Count; position++)
        {
            if (state.Device(order[position]) is not { } dev)
            {
                h.Add(0xDEAD);
                continue;
            }
            h.Add(dev.DmaMask);
            h.Add(dev.CoherentMask);
            h.Add(dev.BusDmaLimit);
            h.Add(dev.Domain is int d ? (ulong)Name(d) : ulong.MaxValue);
            h.Add((dev.Pci32First ? 1UL : 0) | (dev.DdwActive ? 2UL : 0));
            h.Add((ulong)state.MappingCountOf(dev.Id));
            foreach (var mapping in state.MappingsOf(dev.Id))
                AddMapping(ref h, state, mapping);
            h.Add(state.Unmapped.TryGetValue(dev.Id, out var gone) ? Unordered(gone) : 0);
        }
        // Domains in name order: named ones first, then the rest by id.
        _domains.Clear();
        foreach (var domain in state.AllDomains()) _domains.Add((Name(domain.Id), domain));
        _domains.Sort((a, b) => a.Name.CompareTo(b.Name));
        h.Add((ulong)_domains.Count);
        foreach (var (_, domain) in _domains)
        {
            h.Add(DomainHash(domain));
            h.Add(domain.TimerDeadline is ulong deadline ? deadline - state.NowMs : ulong.MaxValue);
        }
        // Bounce slots by their place in the pool.
        h.Add((ulong)state.Bounces.Count);
        foreach (var span in state.BounceSpans.InOrder())
        {
            var slot = state.Bounces[span.Value];
            h.Add((ulong)PositionOf(order, slot.Device));
            h.Add(slot.Slot.Start);
            h.Add(slot.Slot.Last);
            h.Add(slot.OrigPhys);
            h.Add(slot.BufferPhys);
            h.Add(slot.Length);
            h.Add(slot.PaddingZeroed ? 1UL : 0);
        }
        return h.Value;
    }

    private int Name(int domain)
    {
        if (!_domainNames.TryGetValue(domain, out int name))
            _domainNames[domain] = name = _domainNames.Count;
        return name;
    }

    private static int PositionOf(IReadOnlyList<int> order, int device)
    {
        for (int i = 0; i < order.Count; i++)
            if (order[i] == device) return i;
        return -1;
    }

    private void AddMapping(ref Hasher h, ModelState state, DmaMapping m)
    {
        h.Add((ulong)m.Kind);
        h.Add(m.Dma.Value);
        h.Add(m.Size);
        h.Add((ulong)m.Direction);
        h.Add(m.Phys.Value);
        h.Add((ulong)m.Nents);
        h.Add(m.Limit);
        h.Add(m.UntrustedDevice ? 1UL : 0);
        h.Add(m.MaxSegmentSize);
        h.Add(m.SegmentBoundaryMask);
        h.Add((ulong)m.Inputs.Count);
        foreach (var e in m.Inputs)
        {
            h.Add(e.Phys.Value);
            h.Add(e.Length);
        }
        h.Add((ulong)m.Segments.Count);
        foreach (var s in m.Segments)
        {
            h.Add(s.Dma.Value);
            h.Add(s.Length);
        }
        h.Add((ulong)m.Parts.Count);
        foreach (var p in m.Parts)
        {
            h.Add(p.Dma);
            h.Add(p.Length);
            h.Add(p.Phys);
            h.Add(p.Domain is int d ? (ulong)Name(d) : ulong.MaxValue);
            h.Add(p.Allocation is { } a ? a.Start : ulong.MaxValue);
            h.Add(p.Allocation is { } b ? b.Last : ulong.MaxValue);
            // A bounce slot by where it sits in the pool, not by its id.
            h.Add(p.Bounce is int slot && state.Bounces.TryGetValue(slot, out var bounce) ? bounce.Slot.Start : ulong.MaxValue);
        }
    }

    /// <summary>A domain's content without its id and timer (cached per instance).</summary>
    private ulong DomainHash(ModelDomain d)
    {
        if (_domainHashes.TryGetValue(d, out var cached)) return cached.Value;
        var h = new Hasher(0xD0);
        h.Add((ulong)d.Iommu);
        h.Add((ulong)d.Type);
        h.Add((ulong)d.Format.Format);
        h.Add(d.Format.PageSizes);
        h.Add((ulong)d.Format.InputBits);
        h.Add(d.Aperture.Start);
        h.Add(d.Aperture.Last);
        h.Add((d.ForceAperture ? 1UL : 0) | (d.IsDefault ? 2UL : 0));
        h.Add((ulong)d.Policy);
        h.Add(d.AllocStart);
        h.Add((ulong)d.Reserved.Count);
        foreach (var r in d.Reserved)
        {
            h.Add(r.Range.Start);
            h.Add(r.Range.Last);
            h.Add((ulong)(uint)StringComparer.Ordinal.GetHashCode(r.Reason));
        }
        h.Add((ulong)d.Occupied.Count);
        foreach (var e in d.Occupied.InOrder())
        {
            h.Add(e.Start);
            h.Add(e.Last);
            h.Add(e.Value is AllocationOwner owner ? (ulong)owner : ulong.MaxValue);
        }
        AddRuns(ref h, d.Leaves);
        h.Add((ulong)d.Iotlb.Count);
        foreach (var (iommu, runs) in d.Iotlb)
        {
            h.Add((ulong)iommu);
            AddRuns(ref h, runs);
        }
        h.Add((ulong)d.FlushQueueCount);
        foreach (var entry in d.FlushQueue)
        {
            h.Add(entry.Iova.Start);
            h.Add(entry.Iova.Last);
            h.Add(entry.Counter < d.FlushFinished ? 1UL : 0);
        }
        h.Add(d.FlushStarted - d.FlushFinished);
        h.Add((ulong)d.MsiPages.Count);
        foreach (var page in d.MsiPages)
        {
            h.Add(page.DoorbellPage);
            h.Add(page.Iova);
        }
        h.Add(d.MsiBump);
        ulong value = h.Value;
        _domainHashes.AddOrUpdate(d, new Box(value));
        return value;
    }

    private static void AddRuns(ref Hasher h, IntervalTree<PageRun> runs)
    {
        h.Add((ulong)runs.Count);
        foreach (var e in runs.InOrder())
        {
            var run = e.Value;
            h.Add(run.Iova);
            h.Add(run.Phys);
            h.Add(run.PageSize);
            h.Add(run.Count);
            h.Add((ulong)run.Prot);
        }
    }

    /// <summary>An order-independent hash of a set.</summary>
    private static ulong Unordered(IEnumerable<ulong> values)
    {
        ulong sum = 0, count = 0;
        foreach (ulong v in values)
        {
            sum += Hasher.Finish(v);
            count++;
        }
        return sum ^ Hasher.Finish(count + 0xABCD);
    }

    /// <summary>A small 64-bit streaming hash (multiply-rotate per word, a murmur finaliser at the end).</summary>
    private struct Hasher(ulong seed)
    {
        private ulong _h = seed ^ 0x9E37_79B9_7F4A_7C15;

        public void Add(ulong value) =>
            _h = BitOperations.RotateLeft(_h ^ (value * 0xC2B2_AE3D_27D4_EB4F), 31) * 0x9E37_79B9_7F4A_7C15;

        public readonly ulong Value => Finish(_h);

        public static ulong Finish(ulong x)
        {
            x ^= x >> 33;
            x *= 0xFF51_AFD7_ED55_8CCD;
            x ^= x >> 33;
            x *= 0xC4CE_B9FE_1A85_EC53;
            x ^= x >> 33;
            return x;
        }
    }
}
