using System.Numerics;
using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;

namespace DmaVerify.Explore;

/// <summary>
/// The implementation's exported states judged by the full checker, with each domain's own rules
/// (its allocations, leaves, IOTLB, flush queue, regions, table pages) judged only when that
/// domain, as the rules see it, was not judged clean before in this search. The rules of a domain
/// read its content, the devices attached to it and the mapping parts that name it (what
/// <see cref="StateBaseline"/> compares); all of that goes into a 128-bit key, with each owning
/// mapping whole. A search reaches the same domain content in many states (two maps in two
/// domains: each domain as it was after one of them), so most domains are judged once.
/// The rules about devices, mappings and bounce slots run on every state, as in
/// <see cref="StateBaseline"/>; the verdict equals the full checker's but for a 128-bit collision.
/// </summary>
internal sealed class DomainVerdicts
{
    private readonly HashSet<UInt128> _clean = [];
    private readonly Lock _gate = new();

    /// <summary>The implementation's current state judged; null when clean. Step is the index
    /// the finding names (the session's last step).</summary>
    public Finding? Check(ISystemUnderTest implementation, int step)
    {
        SystemState state;
        IReadOnlyList<Violation> violations;
        List<(int Domain, UInt128 Key)> keys;
        try
        {
            state = implementation.ExportState();
            keys = Keys(state);
            // Every domain is judged but those whose key was judged clean (not keyed: judged).
            HashSet<int> judged = [.. (state.Domains ?? []).Where(d => d is not null).Select(d => d.Id)];
            lock (_gate)
                foreach (var (domain, key) in keys)
                    if (_clean.Contains(key)) judged.Remove(domain);
            violations = InvariantChecker.Check(state, judged);
        }
        catch (Exception e)
        {
            return new Finding(FindingKind.ImplementationCrash, step, "CRASH",
                $"{implementation.Name}'s state export or the checker threw {e.GetType().Name}: {e.Message}");
        }
        if (violations.Count > 0)
            return new Finding(FindingKind.InvariantViolation, step, violations[0].Invariant, string.Join("; ", violations));
        lock (_gate)
            foreach (var (_, key) in keys) _clean.Add(key);
        return null;
    }

    /// <summary>Each domain's key; a state with two domains of one id (which INV-07 reports)
    /// keys neither, so both are judged.</summary>
    private static List<(int Domain, UInt128 Key)> Keys(SystemState state)
    {
        var devices = new Dictionary<int, List<DeviceState>>();
        foreach (var dev in state.Devices ?? [])
            if (dev?.Domain is int d)
                (devices.TryGetValue(d, out var list) ? list : devices[d] = []).Add(dev);
        var parts = new Dictionary<int, List<(DmaMapping Mapping, MappingPart Part)>>();
        foreach (var m in state.Mappings ?? [])
            foreach (var p in m?.Parts ?? [])
                if (p?.Domain is int d)
                    (parts.TryGetValue(d, out var list) ? list : parts[d] = []).Add((m!, p));
        var keys = new List<(int, UInt128)>();
        var ids = (state.Domains ?? []).Where(d => d is not null).GroupBy(d => d.Id).Where(g => g.Count() == 1).Select(g => g.Key).ToHashSet();
        foreach (var domain in state.Domains ?? [])
        {
            if (domain is null || !ids.Contains(domain.Id)) continue;
            var h = new Key();
            AddDomain(ref h, domain);
            foreach (var dev in devices.GetValueOrDefault(domain.Id) ?? [])
            {
                h.Add((ulong)dev.Id);
                h.Add(dev.DmaMask);
                h.Add(dev.CoherentMask);
                h.Add(dev.BusDmaLimit);
                h.Add((dev.Pci32First ? 1UL : 0) | (dev.DdwActive ? 2UL : 0));
            }
            h.Add(0xDE71CE5);
            foreach (var (m, p) in parts.GetValueOrDefault(domain.Id) ?? [])
            {
                AddMapping(ref h, m);
                h.Add(p.Dma);
                h.Add(p.Length);
                h.Add(p.Phys);
                h.Add(p.Allocation is { } a ? a.Start : ulong.MaxValue);
                h.Add(p.Allocation is { } b ? b.Last : ulong.MaxValue);
                h.Add(p.Bounce is int slot ? (ulong)slot : ulong.MaxValue);
            }
            keys.Add((domain.Id, h.Value));
        }
        return keys;
    }

    private static void AddDomain(ref Key h, DomainState d)
    {
        h.Add((ulong)d.Id);
        h.Add((ulong)d.Iommu);
        h.Add((ulong)d.Type);
        if (d.Format is { } f)
        {
            h.Add((ulong)f.Format);
            h.Add(f.PageSizes);
            h.Add((ulong)f.InputBits << 32 | (uint)f.OutputBits);
            foreach (int bits in f.LevelBits ?? []) h.Add((ulong)bits);
        }
        h.Add(0xF0F0);
        h.Add(d.Aperture.Start);
        h.Add(d.Aperture.Last);
        h.Add((d.ForceAperture ? 1UL : 0) | (d.IsDefault ? 2UL : 0));
        h.Add((ulong)d.Policy);
        h.Add(d.AllocStart);
        h.Add(d.FlushStarted);
        h.Add(d.FlushFinished);
        h.Add(d.TimerDeadline ?? ulong.MaxValue);
        h.Add(d.MsiBump);
        h.Add(d.TablePages is int t ? (ulong)t : ulong.MaxValue);
        h.Add(d.PendingFreeTablePages is int pf ? (ulong)pf : ulong.MaxValue);
        h.Add((ulong)(d.Allocations?.Count ?? 0));
        foreach (var a in d.Allocations ?? [])
        {
            h.Add(a.Range.Start);
            h.Add(a.Range.Last);
            h.Add((ulong)a.Owner);
        }
        h.Add((ulong)(d.Reserved?.Count ?? 0));
        foreach (var r in d.Reserved ?? [])
        {
            h.Add(r.Range.Start);
            h.Add(r.Range.Last);
            h.Add((ulong)(uint)StringComparer.Ordinal.GetHashCode(r.Reason ?? ""));
        }
        h.Add((ulong)(d.Leaves?.Count ?? 0));
        foreach (var (iova, leaf) in d.Leaves ?? [])
        {
            h.Add(iova);
            h.Add(leaf.Iova);
            h.Add(leaf.Phys);
            h.Add(leaf.Size);
            h.Add((ulong)leaf.Prot);
        }
        h.Add((ulong)(d.Iotlb?.Count ?? 0));
        foreach (var e in d.Iotlb ?? [])
        {
            h.Add((ulong)e.Iommu);
            h.Add(e.Iova);
            h.Add(e.Phys);
            h.Add(e.Size);
            h.Add((ulong)e.Prot);
        }
        h.Add((ulong)(d.FlushQueue?.Count ?? 0));
        foreach (var e in d.FlushQueue ?? [])
        {
            h.Add(e.Iova.Start);
            h.Add(e.Iova.Last);
            h.Add(e.Counter);
        }
        h.Add((ulong)(d.MsiPages?.Count ?? 0));
        foreach (var p in d.MsiPages ?? [])
        {
            h.Add(p.DoorbellPage);
            h.Add(p.Iova);
        }
    }

    private static void AddMapping(ref Key h, DmaMapping m)
    {
        h.Add((ulong)m.Id);
        h.Add((ulong)m.Device);
        h.Add((ulong)m.Kind);
        h.Add(m.Dma.Value);
        h.Add(m.Size);
        h.Add((ulong)m.Direction);
        h.Add(m.Phys.Value);
        h.Add((ulong)m.Nents);
        h.Add(m.Limit);
        h.Add(m.UntrustedDevice ? 1UL : 0);
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
    }

    /// <summary>Two independent 64-bit multiply-rotate lanes, each finished with a murmur mix.</summary>
    private struct Key()
    {
        private ulong _a = 0x243F_6A88_85A3_08D3, _b = 0x1319_8A2E_0370_7344;

        public void Add(ulong value)
        {
            _a = BitOperations.RotateLeft(_a ^ (value * 0xC2B2_AE3D_27D4_EB4F), 31) * 0x9E37_79B9_7F4A_7C15;
            _b = BitOperations.RotateLeft(_b ^ (value * 0xFF51_AFD7_ED55_8CCD), 29) * 0xC4CE_B9FE_1A85_EC53 + 0x1656_67B1_9E37_79F9;
        }

        public readonly UInt128 Value => new(Finish(_a), Finish(_b ^ _a));

        private static ulong Finish(ulong x)
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
